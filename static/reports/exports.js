// The export page: poll the job's status (JSON) and move the progress bar until the file is
// ready, then show the download link. Texts come from the page, already translated.
(function () {
  "use strict";
  var box = document.getElementById("export");
  if (!box) return;
  var bar = document.getElementById("export-progress");
  var state = document.getElementById("export-state");
  var link = document.getElementById("export-download");
  var finished = { done: true, failed: true, expired: true };

  function text(name, values) {
    var template = box.dataset["text" + name.charAt(0).toUpperCase() + name.slice(1)] || "";
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function show(job) {
    bar.value = job.progress;
    bar.textContent = job.progress + " %";
    state.textContent = text(job.status, { done: job.rows_done, total: job.rows_total || "…" });
    if (job.status === "done" && job.download_url) {
      link.href = job.download_url;
      link.hidden = false;
    } else {
      link.removeAttribute("href");
      link.hidden = true;
    }
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (!finished[job.status]) window.setTimeout(poll, 1000);
      })
      .catch(function () {
        state.textContent = text("offline", {});
        window.setTimeout(poll, 5000);
      });
  }

  poll();
})();
