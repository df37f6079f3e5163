// Public pages: fetch the page again every half minute and swap its main part, no reload.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) return;
  var seconds = parseInt(live.dataset.refresh, 10) || 30;
  function refresh() {
    fetch(window.location.href, { cache: "no-cache", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (fresh && fresh.innerHTML !== live.innerHTML) live.innerHTML = fresh.innerHTML;
      })
      .catch(function () {});
  }
  window.setInterval(refresh, seconds * 1000);
})();
