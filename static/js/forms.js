// Pages served from the page cache (cms.pagecache) carry no CSRF token (it would be the first
// visitor's), only a placeholder. Before one of the page's forms is sent, this asks the server
// for the visitor's own token (which also sets the cookie it belongs to) and puts it in the
// form. Pages rendered for one visitor (an error, a signed-in editor) carry theirs: nothing
// happens.
(function () {
  "use strict";
  var PLACEHOLDER = "from-the-page-script";
  var url = document.body.getAttribute("data-csrf-url");
  function tokenInput(form) {
    return form.querySelector('input[name="csrfmiddlewaretoken"]');
  }
  function waiting(form) {
    var input = tokenInput(form);
    return !input || input.value === PLACEHOLDER;
  }
  var forms = Array.prototype.filter.call(document.querySelectorAll("form"), function (form) {
    return (form.getAttribute("method") || "").toLowerCase() === "post" && waiting(form);
  });
  if (!url || !forms.length) return;
  var pending = null;
  function token() {
    if (!pending) {
      pending = fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("token " + response.status);
          return response.json();
        })
        .then(function (data) {
          forms.forEach(function (form) {
            var input = tokenInput(form);
            if (!input) {
              input = document.createElement("input");
              input.type = "hidden";
              input.name = "csrfmiddlewaretoken";
              form.insertBefore(input, form.firstChild);
            }
            input.value = data.token;
          });
          return data.token;
        })
        .catch(function (error) {
          pending = null; // try again on the next attempt; the form is still sent below
          throw error;
        });
    }
    return pending;
  }
  forms.forEach(function (form) {
    // Ask early, while the visitor fills the form in, so sending it waits for nothing.
    form.addEventListener("focusin", function () { token().catch(function () {}); }, { once: true });
    form.addEventListener("submit", function (event) {
      if (!waiting(form) || form.hasAttribute("data-without-token")) return;
      event.preventDefault();
      var submitter = event.submitter;
      var send = function () {
        if (form.requestSubmit) form.requestSubmit(submitter || undefined);
        else form.submit();
      };
      // Without a token the server answers with a clear refusal rather than nothing at all.
      token().then(send, function () {
        form.setAttribute("data-without-token", "");
        send();
      });
    });
  });
})();
