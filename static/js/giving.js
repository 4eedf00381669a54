// Progressive enhancement of the donation form: show the receipt and organisation fields only
// when asked for. Without JavaScript every field is simply visible.
(function () {
  "use strict";
  // The donation form, or an event's ticket form (events/).
  var form = document.getElementById("give") || document.getElementById("tickets");
  if (!form) return;
  function toggle(checkboxId, selector) {
    var box = document.getElementById(checkboxId);
    var section = form.querySelector(selector);
    if (!box || !section) return;
    var sync = function () {
      var hasError = section.querySelector(".has-error");
      section.hidden = !box.checked && !hasError;
    };
    box.addEventListener("change", sync);
    sync();
  }
  // After a server-side error: the summary at the top of the form takes the focus (a screen
  // reader reads it) and comes into view, however far down the page the form is.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
    summary.scrollIntoView({ block: "start" });
  }
  toggle("id_wants_receipt", "fieldset.receipt");
  toggle("id_as_organisation", "fieldset.organisation");
  var other = document.getElementById("id_other_amount");
  if (other) {
    other.addEventListener("input", function () {
      var radio = form.querySelector('input[name="amount"][value="other"]');
      if (radio && other.value) radio.checked = true;
    });
  }
  // The proof of work asked while a campaign is busy (campaigns.challenge.ProofOfWork) is
  // solved by static/js/proof_of_work.js, loaded with the check (campaigns/_proof_of_work.html).
})();

// The campaign's figures, refreshed every few seconds from the live figures endpoint: the page
// itself may come from the page cache, written when it was stored (cms.pagecache).
(function () {
  "use strict";
  var box = document.querySelector("[data-live-url]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-live-url");
  var every = Math.max(2, parseInt(box.getAttribute("data-live-refresh"), 10) || 10) * 1000;
  var timer = null;
  function show(figures) {
    Array.prototype.forEach.call(box.querySelectorAll("[data-live]"), function (element) {
      var value = figures[element.getAttribute("data-live")];
      if (value === undefined || value === null || value === "") return;
      if (element.tagName === "PROGRESS") {
        element.value = value;
        element.textContent = value + "%";
      } else {
        element.textContent = value;
      }
    });
  }
  function refresh() {
    timer = null;
    fetch(url, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (figures) { if (figures) show(figures); })
      .catch(function () {})
      .then(schedule);
  }
  function schedule() {
    if (!timer && !document.hidden) timer = window.setTimeout(refresh, every);
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !timer) refresh();
  });
  refresh();
})();
