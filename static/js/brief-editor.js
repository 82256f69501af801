/* The brief editor's small glue. htmx does the requests; this file only:
 * - shows "Unsaved changes" as soon as a section is edited, and keeps it if more was typed
 *   while an autosave was on its way;
 * - lets htmx swap in the 409 merge card and 422 "not saved" status (htmx skips 4xx bodies);
 * - says "Not saved: no connection" when a request fails, and retries on the next edit;
 * - fills the merge box from the stored text ("add to mine" / "use stored");
 * - warns before leaving the page with unsaved changes;
 * - on an approved brief, asks before the first change (it sends the brief back to review):
 *   at the first keystroke, and before any autosave the keystroke did not cover (a select, a
 *   checkbox); "OK" ticks every section's "Send it back to review" box, which the server
 *   requires; "Cancel" leaves the text and the approval as they were;
 * - evidence: "Cite" puts the citation marker [^cN] the server answers with at the cursor of
 *   the section last written in (else at the end of the section named on the button), and
 *   "Add to brief" appends the talking point as a paragraph; both then autosave as typing does.
 * Loaded with a CSP nonce; no inline handlers, no eval.
 */
(function () {
  "use strict";

  function sectionForm(elt) {
    return elt && elt.closest ? elt.closest("form[data-autosave], form[data-merge]") : null;
  }

  function statusOf(form) {
    var card = form.closest("[data-section]");
    return card ? card.querySelector(".autosave-status") : null;
  }

  function setStatus(form, state, text) {
    var status = statusOf(form);
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }

  // --- An approved brief asks before its first change ------------------------------------

  var notice = document.getElementById("reopen-notice");
  if (notice) document.documentElement.classList.add("reopen-asks");

  function reopenConfirmed() {
    if (!notice || notice.dataset.confirmed === "1") return true;
    if (!window.confirm(notice.dataset.reopenWarning + "\n\nChange it anyway?")) return false;
    notice.dataset.confirmed = "1";
    document.querySelectorAll("input[data-reopen-checkbox]").forEach(function (box) {
      box.checked = true;
    });
    return true;
  }

  document.addEventListener(
    "beforeinput",
    function (event) {
      if (sectionForm(event.target) && !reopenConfirmed()) event.preventDefault();
    },
    true
  );

  function edits(form) {
    return parseInt(form.dataset.edits || "0", 10);
  }

  document.addEventListener("input", function (event) {
    var form = sectionForm(event.target);
    if (!form) return;
    form.dataset.edits = String(edits(form) + 1);
    if (form.hasAttribute("data-autosave")) setStatus(form, "dirty", "Unsaved changes");
    else form.dataset.dirty = "1";
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-autosave], form[data-merge]")) return;
    if (!reopenConfirmed()) {
      event.preventDefault();
      setStatus(form, "error", "Not saved: the brief stays approved. Reload the page to drop your change.");
      return;
    }
    if (!form.matches("form[data-autosave]")) return;
    form.dataset.sentEdits = String(edits(form));
    setStatus(form, "saving", "Saving…");
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-autosave]")) return;
    if (!document.body.contains(form)) return; // replaced by the merge card
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status === 0) {
      setStatus(form, "error", "Not saved: no connection. Your text is still here; it will be saved on your next edit.");
      return;
    }
    if (event.detail.successful && edits(form) !== parseInt(form.dataset.sentEdits || "0", 10)) {
      setStatus(form, "dirty", "Unsaved changes");
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = sectionForm(event.detail.elt);
    if (form) setStatus(form, "error", "Not saved: no connection. Your text is still here.");
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-merge-action]") : null;
    if (!button) return;
    var from = document.getElementById(button.dataset.mergeFrom);
    var into = document.getElementById(button.dataset.mergeInto);
    if (!from || !into) return;
    if (button.dataset.mergeAction === "replace") {
      into.value = from.value;
    } else {
      var mine = into.value.replace(/\s+$/, "");
      into.value = mine ? mine + "\n\n" + from.value : from.value;
    }
    into.dispatchEvent(new Event("input", { bubbles: true }));
    into.focus();
  });

  // --- Evidence ------------------------------------------------------------------------------

  var lastField = null; // the section text last written in: {key, start, end}

  function sectionText(key) {
    var textarea = document.getElementById("text-" + key);
    return textarea && textarea.name === "text" && !textarea.readOnly ? textarea : null;
  }

  function sectionKeyOf(elt) {
    if (!elt || elt.tagName !== "TEXTAREA" || elt.name !== "text" || elt.readOnly) return null;
    var card = elt.closest("[data-section]");
    return card ? card.dataset.section : null;
  }

  function sectionTitle(key) {
    var heading = document.getElementById("heading-" + key);
    return heading ? heading.textContent.replace(/^\s*\d+\.\s*/, "").trim() : key;
  }

  // Name the section a citation will go into on every "Cite" button.
  function labelCiteButtons() {
    if (!lastField) return;
    var title = sectionTitle(lastField.key);
    document.querySelectorAll("form[data-cite-form] .cite-into").forEach(function (span) {
      span.textContent = "at the cursor in " + title;
    });
  }

  function remember(event) {
    var key = sectionKeyOf(event.target);
    if (!key) return;
    lastField = { key: key, start: event.target.selectionStart, end: event.target.selectionEnd };
    labelCiteButtons();
  }
  document.addEventListener("focusout", remember);
  document.addEventListener("focusin", remember);

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.matches || !elt.matches("form[data-cite-form]")) return;
    if (lastField && sectionText(lastField.key)) event.detail.parameters.section = lastField.key;
  });

  function insertInto(textarea, text, atCursor) {
    var value = textarea.value;
    var start = value.length;
    var end = value.length;
    if (atCursor && lastField && lastField.key === sectionKeyOf(textarea)) {
      start = Math.min(lastField.start, value.length);
      end = Math.min(lastField.end, value.length);
    }
    var before = value.slice(0, start);
    var after = value.slice(end);
    if (!atCursor) {
      before = before.replace(/\s+$/, "");
      text = (before ? "\n\n" : "") + text;
    } else if (before && !/\s$/.test(before) && start === value.length) {
      text = " " + text;
    }
    textarea.value = before + text + after;
    var caret = before.length + text.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    lastField = { key: sectionKeyOf(textarea), start: caret, end: caret };
    textarea.dispatchEvent(new Event("input", { bubbles: true })); // preview and autosave
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    labelCiteButtons();
    var target = event.detail.target;
    if (!target || target.id !== "citation-result") return;
    var snippet = target.querySelector("[data-marker], [data-insert]");
    if (!snippet) return;
    var textarea = sectionText(snippet.dataset.section);
    if (!textarea) return; // that section is not on this page: the snippet says where it went
    if (snippet.hasAttribute("data-marker")) insertInto(textarea, snippet.dataset.marker, true);
    else insertInto(textarea, snippet.dataset.insert, false);
  });

  window.addEventListener("beforeunload", function (event) {
    var dirty = document.querySelector(
      ".autosave-status[data-state='dirty'], .autosave-status[data-state='saving'], " +
        ".autosave-status[data-state='error'], form[data-merge]"
    );
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
