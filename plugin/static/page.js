/* Microsoft Outlook Calendar settings page: the Copy button (no inline script: the page's CSP forbids it). */
(function () {
  "use strict";

  function selectAll(input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
  }

  function copyBySelection(input) {
    selectAll(input);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function wireCopy(button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!input) {
      return;
    }
    function say(text) {
      if (status) {
        status.textContent = "";
        window.setTimeout(function () { status.textContent = text; }, 50);
      }
    }
    // the page's language: the words come with the button (data-copied, data-copy-by-hand)
    var copied = button.getAttribute("data-copied") || "Copied to the clipboard.";
    var byHand = button.getAttribute("data-copy-by-hand") ||
      "The link is selected: press Ctrl+C (\u2318C on a Mac) to copy it.";
    function fallback() {
      say(copyBySelection(input) ? copied : byHand);
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () {
          say(copied);
        }, fallback);
      } else {
        fallback();
      }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), wireCopy);
    Array.prototype.forEach.call(document.querySelectorAll("input[data-select-on-focus]"), function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
