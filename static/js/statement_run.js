// The yearly statements' run page: poll the run's status and show its progress until done.
(function () {
  const root = document.getElementById("statement-run");
  if (!root) return;
  const url = root.dataset.statusUrl;

  function show(state) {
    root.querySelectorAll("[data-field]").forEach(function (node) {
      const value = state[node.dataset.field];
      if (node.dataset.field === "error") {
        node.textContent = value || "";
        node.hidden = !value;
      } else if (value !== undefined) {
        node.textContent = value;
      }
    });
    const issue = document.getElementById("issue-progress");
    issue.max = state.total || 1;
    issue.value = state.done;
    const pdfs = document.getElementById("pdf-progress");
    pdfs.max = state.issued || 1;
    pdfs.value = state.rendered;
    document.getElementById("run-complete").hidden = !state.complete;
    document.getElementById("run-resume").hidden = !state.stale;
    return state.complete;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        // Until issued and rendered: every second; then, while emails go out, every 3 seconds.
        if (!show(state)) setTimeout(poll, 1000);
        else if (state.email_pending) setTimeout(poll, 3000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
