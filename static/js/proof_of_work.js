// The proof of work asked of a sign-in (crm.challenge, accounts.forms) and of a busy campaign's
// or event's form (campaigns.challenge.ProofOfWork): find the number whose SHA-256 with the
// puzzle starts with `difficulty` zero bits, in the background. The one solver of every form
// that asks it: its template loads this script with the check.
// Sign-in: a press of the button before the number is found waits for it, then the form goes.
// `data-pow-send="found"` (a busy campaign's form: it came back with the check after the donor
// pressed the button): the form goes as soon as the number is found.
// crypto.subtle needs HTTPS (or localhost).
(function () {
  "use strict";
  var pow = document.querySelector("[data-pow]");
  if (!pow || !window.crypto || !window.crypto.subtle || !window.TextEncoder) return;
  var form = pow.closest("form");
  var puzzle = pow.querySelector('input[name="pow_puzzle"]').value;
  var answer = pow.querySelector('input[name="pow_answer"]');
  var bits = parseInt(pow.getAttribute("data-difficulty"), 10);
  var sendWhenFound = pow.getAttribute("data-pow-send") === "found";
  var encoder = new TextEncoder();
  var waiting = false;
  var zeroBits = function (buffer) {
    var bytes = new Uint8Array(buffer);
    var count = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { count += 8; continue; }
      return count + Math.clz32(bytes[i]) - 24;
    }
    return count;
  };
  var search = function (start) {
    var batch = [];
    for (var n = start; n < start + 512; n++) {
      batch.push(crypto.subtle.digest("SHA-256", encoder.encode(puzzle + ":" + n)));
    }
    return Promise.all(batch).then(function (digests) {
      for (var j = 0; j < digests.length; j++) {
        if (zeroBits(digests[j]) >= bits) return start + j;
      }
      return search(start + 512);
    });
  };
  form.addEventListener("submit", function (event) {
    if (!answer.value) { event.preventDefault(); waiting = true; }
  });
  search(0).then(function (found) {
    answer.value = String(found);
    if (!waiting && !sendWhenFound) return;
    // A form refused while giving another way (a bank transfer) goes back where it came from.
    var other = form.querySelector("[data-form-action]");
    if (other) form.action = other.getAttribute("data-form-action");
    form.submit();
  });
})();
