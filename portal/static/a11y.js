// Keyboard and screen-reader help for htmx pages (no inline script: the CSP allows 'self').
// After a swap, focus goes to what changed when the swap took it away (the user's own control
// was replaced and htmx could not put it back), never while they type elsewhere; a server message in the response's
// HX-Trigger header ({"portal:announce": "..."}) is read out by the polite live region of
// base.html. The plan's "select all" box ticks the rows (without JavaScript the server reads it).
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("live-region");
    if (!region || !text) return;
    region.textContent = "";
    // A new text node after a pause: screen readers announce a change, not a repeat.
    window.setTimeout(function () { region.textContent = text; }, 60);
  }

  document.addEventListener("portal:announce", function (event) {
    var detail = event.detail || {};
    announce(typeof detail === "string" ? detail : detail.value);
  });

  // After the settle: htmx has put the focus back on the same control in the new content by
  // then, if it could, and a fragment may have focused a control of its own (autofocus):
  // both stay. Focus lost with the old content moves to the changed element itself; focus
  // elsewhere (a search box being typed in) stays.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var changed = target && target.id ? document.getElementById(target.id) : target;
    if (!changed || !document.contains(changed)) return;
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    if (!changed.hasAttribute("tabindex")) changed.setAttribute("tabindex", "-1");
    changed.focus({ preventScroll: false });
  });

  // A table wider than its frame scrolls inside it: the frame becomes a named, focusable
  // region so a keyboard can scroll it (the templates mark the widest tables themselves).
  function markScrollingTables(root) {
    (root || document).querySelectorAll(".table-scroll:not([tabindex])").forEach(function (frame) {
      if (frame.scrollWidth <= frame.clientWidth) return;
      // Its name: the table's caption, else the nearest heading before it.
      var caption = frame.querySelector("caption");
      var heading = null;
      document.querySelectorAll("main h1, main h2, main h3, main h4").forEach(function (h) {
        if (h.compareDocumentPosition(frame) & Node.DOCUMENT_POSITION_FOLLOWING) heading = h;
      });
      var name = (caption || heading || {}).textContent;
      if (!name || !name.trim()) return;
      frame.setAttribute("role", "region");
      frame.setAttribute("aria-label", name.trim());
      frame.setAttribute("tabindex", "0");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { markScrollingTables(); });
  window.addEventListener("resize", function () { markScrollingTables(); });
  document.addEventListener("htmx:afterSettle", function (event) {
    markScrollingTables(event.detail.target && event.detail.target.parentElement);
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    var form = box.getAttribute("form");
    document.querySelectorAll('input[type=checkbox][name=selected][form="' + form + '"]')
      .forEach(function (row) { row.checked = box.checked; });
  });
})();
