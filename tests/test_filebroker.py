"""The embedded broker (salesprep/filebroker.py): safe when several processes share its folders.

These run the real transport on real folders, with real processes publishing, binding and
consuming at once, as the demo's web server, beat and worker do.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time

import pytest
from kombu import Connection, Exchange, Producer, Queue
from kombu.transport.virtual import BrokerState

from salesprep.filebroker import REJECTED_FOLDER, Transport

TRANSPORT = "salesprep.filebroker:Transport"
EXCHANGE = Exchange("tasks", "direct", durable=False)
QUEUE = Queue("work", EXCHANGE, routing_key="work", durable=False)


@pytest.fixture(autouse=True)
def new_process_state(monkeypatch):
    """Each test starts as a new process would: kombu's file transport remembers, for the whole
    process, which queues it has bound (``global_state``), and skips binding them again."""
    monkeypatch.setattr(Transport, "global_state", BrokerState())


def options(root) -> dict:
    folders = {name: root / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    return {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "store_processed": False,
    }


def connect(root) -> Connection:
    return Connection(
        "filesystem://localhost/", transport=TRANSPORT, transport_options=options(root)
    )


def publish(root, who: int, count: int) -> None:
    with connect(root) as conn:
        producer = Producer(conn.channel())
        for number in range(count):
            producer.publish(
                {"who": who, "n": number},
                exchange=EXCHANGE,
                routing_key="work",
                declare=[QUEUE],
                serializer="json",
            )


def rebind(root, rounds: int) -> None:
    """Bind and unbind other queues on the same exchange: its table is rewritten each time."""
    with connect(root) as conn:
        channel = conn.channel()
        for number in range(rounds):
            other = Queue(
                f"other-{os.getpid()}-{number}", EXCHANGE, routing_key=f"r{number}", durable=False
            )
            other(channel).declare()
            other(channel).delete()


def drain(root, expected: int, found) -> None:
    with connect(root) as conn:
        queue = QUEUE(conn.channel())
        queue.declare()
        misses = 0
        while len(found) < expected and misses < 400:
            message = queue.get(no_ack=True)
            if message is None:
                misses += 1
                time.sleep(0.01)
                continue
            misses = 0
            found.append((message.payload["who"], message.payload["n"]))


def test_publishers_binders_and_a_consumer_at_once_lose_and_break_nothing(tmp_path):
    context = multiprocessing.get_context("fork")
    with connect(tmp_path) as conn:
        QUEUE(conn.channel()).declare()
    publishers, per = 3, 500
    manager = context.Manager()
    found = manager.list()
    workers = [context.Process(target=publish, args=(tmp_path, who, per)) for who in range(3)]
    workers += [context.Process(target=rebind, args=(tmp_path, 300)) for _ in range(2)]
    consumer = context.Process(target=drain, args=(tmp_path, publishers * per, found))
    for process in [*workers, consumer]:
        process.start()
    for process in [*workers, consumer]:
        process.join(120)
    assert [p.exitcode for p in [*workers, consumer]] == [0] * (len(workers) + 1)
    got = sorted(found)
    assert got == sorted((who, n) for who in range(publishers) for n in range(per))
    assert not list((tmp_path / "queue").iterdir()), "every message was consumed, no temp left"
    assert not (tmp_path / REJECTED_FOLDER).exists()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"body": "eyJ',
        b"\xff\xfe not utf-8",
        b"[1, 2]",
        b'{"properties": {}}',
        b'{"body": "not base64!", "properties": {"delivery_tag": "x", "body_encoding": "base64"}}',
    ],
    ids=["empty", "truncated", "binary", "not-an-object", "no-delivery-tag", "bad-body"],
)
def test_a_file_that_holds_no_message_is_set_aside_and_the_next_one_delivered(
    tmp_path, caplog, content
):
    with connect(tmp_path) as conn:
        channel = conn.channel()
        QUEUE(channel).declare()
        (tmp_path / "queue" / "0_bad.work.msg").write_bytes(content)
        Producer(channel).publish({"ok": True}, exchange=EXCHANGE, routing_key="work")
        with caplog.at_level(logging.WARNING, logger="salesprep.filebroker"):
            message = QUEUE(channel).get(no_ack=True)
    assert message is not None and message.payload == {"ok": True}
    assert (tmp_path / REJECTED_FOLDER / "0_bad.work.msg").read_bytes() == content
    assert "holds no readable message" in caplog.text


def test_an_unreadable_exchange_table_is_rebuilt_by_the_next_bind(tmp_path, caplog):
    with connect(tmp_path) as conn:
        channel = conn.channel()
        (tmp_path / "control" / "tasks.exchange").write_text("")  # what a torn write left
        with caplog.at_level(logging.WARNING, logger="salesprep.filebroker"):
            QUEUE(channel).declare()
        Producer(channel).publish({"n": 1}, exchange=EXCHANGE, routing_key="work")
        message = QUEUE(channel).get(no_ack=True)
    assert message is not None and message.payload == {"n": 1}
    assert "unreadable" in caplog.text
