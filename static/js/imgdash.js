// imgdash behaviour on top of plain pages: everything here is an enhancement, the pages work
// without it. No inline scripts anywhere (the Content-Security-Policy forbids them).
(function () {
  "use strict";

  function isTyping(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  // "/" focuses the search box, as on most consoles.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(document.activeElement)) return;
    var search = document.querySelector("[data-search]");
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  });

  // Copy buttons: <button data-copy="#id-of-element"> copies that element's text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    var text = source ? source.textContent.trim() : "";
    // Keep the first label: a second click while "Copied" shows must not make that the label.
    if (!button.hasAttribute("data-label")) button.setAttribute("data-label", button.textContent);
    var label = button.getAttribute("data-label");
    function done(ok) {
      button.textContent = ok ? "Copied" : "Select and copy";
      button.setAttribute("data-copied", ok ? "true" : "false");
      clearTimeout(button.copyTimer);
      button.copyTimer = setTimeout(function () { button.textContent = label; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      // Plain-HTTP pages (e.g. the local demo) have no async clipboard: use a selection.
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      done(ok);
    }
  });

  // Close an open <details> menu when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });

  // --- Confirmations: the submit button stays disabled until the typed text matches. ------
  function syncConfirm(input) {
    var form = input.form;
    var button = form && form.querySelector("[data-confirm-button]");
    if (button) button.disabled = input.value.trim() !== input.getAttribute("data-confirm-match");
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-confirm-match]")) syncConfirm(event.target);
  });

  // --- Dialogs: fragments that arrive as <dialog data-open> open as modals. ------------------
  // The root itself and everything under it (htmx:load fires on the swapped-in element).
  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  function enhance(root) {
    within(root, "[data-confirm-match]").forEach(syncConfirm);
    within(root, "dialog[data-open]").forEach(function (dialog) {
      if (!dialog.open && dialog.isConnected) {
        dialog.showModal();
        var first = dialog.querySelector("[data-confirm-match], input, button");
        if (first) first.focus();
      }
    });
    updateBulk();
    startCountdowns(root);
    focusScopeCell(root);
  }
  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    var dialog = closer && closer.closest("dialog");
    if (dialog) {
      event.preventDefault();
      dialog.close();
    }
  });
  // A closed dialog is gone for good: remove it so the next one starts fresh.
  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG") event.target.remove();
  }, true);

  // --- Bulk selection on the repository list, with shift-click ranges. -----------------------
  var lastChecked = null;
  function bulkBoxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[data-bulk]"));
  }
  function updateBulk() {
    var boxes = bulkBoxes();
    var chosen = boxes.filter(function (box) { return box.checked; }).length;
    var button = document.querySelector("[data-bulk-submit]");
    var count = document.querySelector("[data-bulk-count]");
    var all = document.querySelector("[data-bulk-all]");
    if (button) {
      button.disabled = chosen === 0;
      button.textContent = chosen ? "Delete " + chosen + " selected…" : "Delete selected…";
    }
    if (count && chosen) count.textContent = chosen + " selected. Shift-click selects a range.";
    if (all) {
      all.checked = boxes.length > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
  }
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement)) return;
    if (box.matches("[data-bulk-all]")) {
      bulkBoxes().forEach(function (other) { other.checked = box.checked; });
      updateBulk();
      return;
    }
    if (!box.matches("[data-bulk]")) return;
    var boxes = bulkBoxes();
    if (event.shiftKey && lastChecked && boxes.indexOf(lastChecked) !== -1) {
      var from = boxes.indexOf(lastChecked);
      var to = boxes.indexOf(box);
      var lo = Math.min(from, to);
      var hi = Math.max(from, to);
      for (var i = lo; i <= hi; i++) boxes[i].checked = box.checked;
    }
    lastChecked = box;
    updateBulk();
  });

  // --- Live countdowns: <span data-countdown="UNIX seconds">. --------------------------------
  function startCountdowns(root) {
    within(root, "[data-countdown]").forEach(function (el) {
      if (el.dataset.counting) return;
      el.dataset.counting = "1";
      var until = parseInt(el.getAttribute("data-countdown"), 10) * 1000;
      function tick() {
        var left = Math.round((until - Date.now()) / 1000);
        if (left <= 0) {
          el.textContent = "expired";
          el.classList.add("failed");
          return;
        }
        // "30 min" while minutes are left, as the page says without JavaScript; seconds at the end.
        el.textContent = "expires in " + (left >= 60 ? Math.floor(left / 60) + " min" : left + " s");
        setTimeout(tick, 1000);
      }
      tick();
    });
  }

  // --- list ---
  // After paging with htmx (or a change made from the list), the new results come into view
  // with focus on their heading, as after a page load. A swap that took away the focused
  // control (a sort header) gives focus to its successor, the element with the same id.
  var focusResults = false;
  var refocusId = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!(elt instanceof Element)) return;
    if (elt.closest("[data-focus-results]")) focusResults = true;
    var active = document.activeElement;
    refocusId = active && active.id && active.closest("#results") ? active.id : null;
    if (elt.matches("[data-busy]")) elt.setAttribute("aria-disabled", "true");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt instanceof Element && elt.matches("[data-busy]")) elt.removeAttribute("aria-disabled");
    if (!event.detail.successful) focusResults = false;
  });
  // Sent by the server when a delete or scope change made from the list is done: the list's
  // results are fetched again in place, so close the dialog and focus them when they come.
  document.addEventListener("imgdash:list-changed", function () {
    document.querySelectorAll("dialog[open]").forEach(function (dialog) { dialog.close(); });
    focusResults = true;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var heading = document.getElementById("results-heading");
    if (focusResults && heading) {
      focusResults = false;
      document.getElementById("results").scrollIntoView({ block: "start" });
      heading.focus({ preventScroll: true });
      return;
    }
    var active = document.activeElement;
    if (refocusId && (!active || active === document.body)) {
      var successor = document.getElementById(refocusId);
      if (successor) successor.focus();
    }
    refocusId = null;
  });

  // --- detail ---
  // The inline scope editor: focus moves into it when it opens, and to the new badge's "change"
  // link (described by what happened) when it closes. The server marks the element to focus.
  function focusScopeCell(root) {
    var target = within(root, "[data-scope-focus]")[0];
    if (!target) return;
    target.removeAttribute("data-scope-focus");
    target.focus();
  }
  // Escape in an open inline editor cancels it, as its Cancel link does.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var cell = event.target.closest && event.target.closest(".scope-cell.editing");
    var cancel = cell && cell.querySelector("a[hx-get]");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  // --- a11y ---
  // The progress bar: shown when an htmx request or a page load takes more than PATIENCE ms,
  // so quick answers do not flicker. The region an htmx request will replace is aria-busy
  // meanwhile. Classes only: the CSP forbids style attributes.
  var PATIENCE = 300;
  var progressBar = null;
  var inFlight = 0;
  var showTimer = null;
  var leaving = false;
  function bar() {
    if (!progressBar) progressBar = document.getElementById("progress-bar");
    return progressBar;
  }
  function showSoon() {
    if (showTimer || !bar()) return;
    showTimer = setTimeout(function () {
      showTimer = null;
      bar().hidden = false;
    }, PATIENCE);
  }
  function hideBar() {
    clearTimeout(showTimer);
    showTimer = null;
    if (bar()) bar().hidden = true;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.setAttribute) target.setAttribute("aria-busy", "true");
    inFlight++;
    showSoon();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail.target;
    if (target && target.removeAttribute) target.removeAttribute("aria-busy");
    // The element may have been swapped out: clear whatever now stands in its place too.
    document.querySelectorAll("[aria-busy=true]").forEach(function (el) {
      el.removeAttribute("aria-busy");
    });
    inFlight = Math.max(0, inFlight - 1);
    if (!inFlight && !leaving) hideBar();
    // The footer names the request to quote to an admin: the latest one, not the page's first.
    var id = event.detail.xhr && event.detail.xhr.getResponseHeader("X-Request-ID");
    var footerId = document.getElementById("request-id");
    if (id && footerId) footerId.textContent = id;
  });
  // Full page loads: a plain link or form that leaves this page. The next page replaces the
  // bar; a page that stays (a download, a cancelled load) hides it again after a while.
  function leaveSoon() {
    leaving = true;
    showSoon();
    setTimeout(function () { leaving = false; if (!inFlight) hideBar(); }, 20000);
  }
  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var link = event.target.closest("a[href]");
    if (!link || link.hasAttribute("download") || link.hasAttribute("hx-get")) return;
    if (link.target && link.target !== "_self") return;
    if (link.origin !== location.origin) return;
    if (link.pathname === location.pathname && link.search === location.search && link.hash) return;
    leaveSoon();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // htmx cancels the browser's submit of the forms it handles: those show the bar above.
    setTimeout(function () {
      if (!event.defaultPrevented && form.method !== "dialog") leaveSoon();
    }, 0);
  });
  // Back to a page from the back/forward cache: nothing is loading any more.
  window.addEventListener("pageshow", function () { leaving = false; inFlight = 0; hideBar(); });

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
