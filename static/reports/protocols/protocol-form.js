/* Live check of a protocol copy as the observer types: the hard control relations and the
 * soft checks of the election's template (the same data the server checks with, embedded
 * in the page as JSON). A failing relation names its lines and marks their fields; the
 * server checks again on submit. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-protocol-form]");
  var data = document.getElementById("protocol-template");
  if (!form || !data) return;
  var template = JSON.parse(data.textContent);
  var failures = document.getElementById("relation-failures");
  var warnings = document.getElementById("relation-warnings");
  var ok = document.getElementById("relation-ok");

  function input(key) { return form.querySelector("[data-line='" + key + "']"); }

  function value(key) {
    var el = input(key);
    if (!el || el.value.trim() === "") return null;
    var number = Number(el.value);
    return Number.isInteger(number) && number >= 0 ? number : null;
  }

  function terms(side) {
    var out = [];
    side.forEach(function (term) {
      if (term === "*candidates") {
        template.candidates.forEach(function (key) { out.push([1, key]); });
      } else if (term.charAt(0) === "-") {
        out.push([-1, term.slice(1)]);
      } else {
        out.push([1, term]);
      }
    });
    return out.filter(function (pair) { return pair[1] in template.fields; });
  }

  function sum(side) {
    var total = 0;
    var pairs = terms(side);
    for (var i = 0; i < pairs.length; i++) {
      var v = value(pairs[i][1]);
      if (v === null) return null; // not all lines typed yet: nothing to say
      total += pairs[i][0] * v;
    }
    return total;
  }

  function holds(op, left, right) {
    if (op === "=") return left === right;
    if (op === ">=") return left >= right;
    return left <= right;
  }

  function evaluate(relation) {
    var left = sum(relation.left);
    var right = sum(relation.right);
    if (left === null || right === null || holds(relation.op, left, right)) return null;
    return {
      keys: terms(relation.left).concat(terms(relation.right)).map(function (p) { return p[1]; }),
      text: template.failure_text.replace("%(relation)s", relation.text)
        .replace("%(left)s", left).replace("%(right)s", right)
    };
  }

  function show(list, outcomes) {
    list.textContent = "";
    outcomes.forEach(function (outcome) {
      var li = document.createElement("li");
      li.textContent = outcome.text;
      list.appendChild(li);
    });
  }

  function check() {
    var failed = template.relations.map(evaluate).filter(Boolean);
    var warned = template.soft_checks.map(evaluate).filter(Boolean);
    Object.keys(template.fields).forEach(function (key) {
      var el = input(key);
      if (el) el.closest(".field").classList.remove("relation-failed");
    });
    failed.forEach(function (outcome) {
      outcome.keys.forEach(function (key) {
        var el = input(key);
        if (el) el.closest(".field").classList.add("relation-failed");
      });
    });
    show(failures, failed);
    show(warnings, warned);
    var complete = Object.keys(template.fields).every(function (key) { return value(key) !== null; });
    ok.hidden = !(complete && failed.length === 0);
  }

  form.addEventListener("input", check);
  form.addEventListener("change", check);
  window.addEventListener("load", check); // after report.js has restored a draft
  check();
})();
