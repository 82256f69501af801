"""The embedded broker: kombu's file transport, made safe for several processes at once.

The first-run setup (no REDIS_URL) passes task messages through files so that it needs no
server. kombu's own file transport is not safe when the web server, beat and the worker read
and write its folders together, and one bad read stops the worker ("Unrecoverable error:
JSONDecodeError"):

* a message file is created empty and then written, so a worker polling the folder can take it
  before its content is there;
* an exchange table (``control/<exchange>.exchange``, read on every publish) is created empty or
  rewritten in place, so a publisher can read it half-written;
* any file that does not hold a message (an empty or truncated file, stray bytes) raises in
  the worker's consumer loop.

This transport writes every file under a temporary name and renames it into place (a rename
is atomic, so a reader sees the whole file or none), updates exchange tables under one lock
file, and sets aside a message file it cannot read, in ``rejected/``, with a warning, instead
of stopping. Remote control, gossip, mingle and heartbeats, which broadcast through the
exchange files, are switched off for it (settings and the demo command), as nothing uses them
on a single-machine first run.
"""

from __future__ import annotations

import binascii
import contextlib
import fcntl
import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

REJECTED_FOLDER = "rejected"


def _write_atomically(folder: str | Path, name: str, data: bytes) -> None:
    """Write ``data`` to ``folder/name`` so that no reader ever sees part of it."""
    # The temporary name starts with a dot and ends in .tmp: no queue's ``<queue>.msg`` suffix
    # matches it, so neither the consumer nor a queue's size ever counts it.
    temporary = os.path.join(folder, f".{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, os.path.join(folder, name))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def valid_message(payload: object) -> bool:
    """Whether a decoded file holds what kombu's virtual transport needs to deliver it."""
    if not isinstance(payload, dict):
        return False
    properties = payload.get("properties")
    return (
        isinstance(properties, dict)
        and "delivery_tag" in properties
        and isinstance(properties.get("delivery_info", {}), dict)
    )


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        try:
            _write_atomically(self.data_folder_out, name, dumps(payload).encode())
        except OSError as exc:
            folder = self.data_folder_out
            raise filesystem.ChannelError(f"Cannot add a message to {folder}") from exc

    def _get(self, queue):
        suffix = f"{queue}.msg"
        taken_folder = Path(self.processed_folder)
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != suffix:
                continue
            taken = taken_folder / name
            try:
                # A rename within one file system: exactly one consumer wins the message.
                os.rename(os.path.join(self.data_folder_in, name), taken)
            except OSError:
                continue  # another consumer took it first
            try:
                raw = taken.read_bytes()
            except OSError as exc:
                raise filesystem.ChannelError(f"Cannot read the message {taken}") from exc
            payload = self._decode(raw, taken)
            if payload is None:
                continue
            if not self.store_processed:
                with contextlib.suppress(OSError):
                    taken.unlink()
            return payload
        raise Empty()

    def _decode(self, raw: bytes, path: Path):
        try:
            payload = loads(raw.decode())
            if valid_message(payload) and payload.get("body"):
                properties = payload["properties"]
                self.decode_body(payload["body"], properties.get("body_encoding"))
        except (ValueError, UnicodeDecodeError, binascii.Error, TypeError):
            payload = None
        if payload is not None and valid_message(payload):
            return payload
        rejected = path.parent.parent / REJECTED_FOLDER
        rejected.mkdir(exist_ok=True)
        with contextlib.suppress(OSError):
            os.replace(path, rejected / path.name)
        logger.warning(
            "Set aside a broker file that holds no readable message (%d bytes): %s",
            len(raw),
            rejected / path.name,
        )
        return None

    # Exchange tables: read without a lock (every write replaces the whole file), changed under
    # one lock file so that two processes binding at once do not lose each other's change.

    def get_table(self, exchange):
        path = self._exchange_file(exchange)
        try:
            table = loads(path.read_bytes().decode())
            return [filesystem.exchange_queue_t(*row) for row in table]
        except FileNotFoundError:
            return []
        except (ValueError, UnicodeDecodeError, TypeError):
            logger.warning("The broker's exchange table %s is unreadable; treated as empty", path)
            return []

    @contextlib.contextmanager
    def _tables_locked(self):
        folder = Path(self.control_folder)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".tables.lock", "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _change_table(self, exchange, change) -> None:
        path = self._exchange_file(exchange)
        with self._tables_locked():
            rows = self.get_table(exchange)
            changed = change(list(rows))
            if changed != rows:
                _write_atomically(path.parent, path.name, dumps(changed).encode())

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda rows: rows if row in rows else [row, *rows])

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # The virtual channel's bookkeeping (skipping kombu's in-place rewrite of the table).
        virtual = super(filesystem.Channel, self)
        virtual._delete(queue, exchange, routing_key, pattern, *args, **kwargs)
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda rows: [r for r in rows if r != row])


#: The longest the worker's consumer loop waits for a message before it looks again whether it
#: should stop (Celery asks for 2 s, and runs one more wait after a stop was asked for).
DRAIN_TIMEOUT = 0.5


class Transport(filesystem.Transport):
    Channel = Channel

    def drain_events(self, connection, timeout=None):
        if timeout is not None:
            timeout = min(timeout, DRAIN_TIMEOUT)
        return super().drain_events(connection, timeout=timeout)
