// Progressive enhancement of the donation form: show the receipt and organisation fields only
// when asked for. Without JavaScript every field is simply visible.
(function () {
  "use strict";
  var form = document.getElementById("give");
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
})();
