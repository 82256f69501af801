// Loaded by base.html on every signed-in page. "/" moves the focus to the navigation's search
// box, unless the person is typing somewhere (a field, an editor) or holds a modifier key.
(function () {
  "use strict";
  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.defaultPrevented || isTyping(event.target)) return;
    var box = document.getElementById("nav-search-q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();
