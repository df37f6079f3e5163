// Turnout form: warns, as the observer types, of a count far from their earlier counts at the
// same station or from the figure the station announced. The warnings never stop the form:
// a count that is right is sent as it is. Texts come from the page, already translated.
(function () {
  "use strict";
  var form = document.querySelector("form.turnout");
  var data = document.getElementById("turnout-earlier");
  if (!form || !data) return;
  var earlier = JSON.parse(data.textContent);
  var box = document.getElementById("turnout-warnings");

  function text(name, values) {
    return form.dataset[name].replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function number(name) {
    var value = form.elements[name] && form.elements[name].value.trim();
    return value === "" || value === undefined ? null : Number(value);
  }

  function station() {
    var checked = form.querySelector("[name=station]:checked") || form.elements.station;
    return checked ? checked.value : "";
  }

  function warnings() {
    var found = [];
    var own = number("own_tally");
    var announced = number("announced");
    var checkpoint = form.elements.checkpoint ? form.elements.checkpoint.value : "";
    var rows = (earlier[station()] || []).filter(function (row) { return row[0] < checkpoint && row[1] !== null; });
    var last = rows[rows.length - 1];
    if (own !== null && last) {
      if (own < last[1]) found.push(text("lower", { checkpoint: last[0], count: last[1] }));
      else if (last[1] >= 50 && own > 3 * last[1]) found.push(text("jump", { checkpoint: last[0], count: last[1] }));
    }
    if (own !== null && announced !== null) {
      var difference = Math.abs(own - announced);
      var percent = Math.round((100 * difference) / Math.max(own, announced, 1));
      if (difference > 20 && percent > 10) found.push(text("apart", { difference: difference, percent: percent }));
    }
    return found;
  }

  function show() {
    var found = warnings();
    box.textContent = found.join(" ");
    box.hidden = found.length === 0;
  }

  form.addEventListener("input", show);
  form.addEventListener("change", show);
  show();
})();
