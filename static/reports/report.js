/* Offline support for the report forms. The pages work without this script; it adds:
 * - a draft in localStorage, saved as the observer types, restored after a reload;
 * - an outbox in IndexedDB: a submitted report (files included, as Blobs) is stored there
 *   first, then sent; it stays until the server has answered, and is retried when the
 *   connection returns and every 20 seconds. Each report keeps its UUID, so the server
 *   accepts it exactly once however often it is retried;
 * - a service worker (/sw.js) so the form opens again without a connection.
 */
(function () {
  "use strict";

  var RETRY_MS = 20000;
  var SUBMIT_TIMEOUT_MS = 30000; // then the report waits in the outbox like an offline one
  var DB_NAME = "observer-reports";
  var STORE = "outbox";
  var strings = (document.getElementById("js-strings") || { dataset: {} }).dataset;
  var form = document.querySelector("form[data-offline]");
  var inFlight = {};

  // Helpers

  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // "When it happened" is read by the server in the election's zone, so it is filled in that
  // zone too, whatever zone the phone is set to.
  function electionNow() {
    var zone = form && form.dataset.timeZone;
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-GB", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23"
      }).formatToParts(new Date()).forEach(function (part) { parts[part.type] = part.value; });
    } catch (e) {
      var d = new Date();
      return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    }
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  // A phone whose clock is far off files wrong times: say so, once, when the page knows the
  // server's time (the page itself, or the questions' JSON).
  var CLOCK_TOLERANCE_MS = 5 * 60000;
  var clockWarned = false;
  function clockCheck(serverNow) {
    var off = Date.now() - serverNow;
    if (clockWarned || !serverNow || Math.abs(off) < CLOCK_TOLERANCE_MS || !strings.clock) return;
    clockWarned = true;
    notice(strings.clock.replace("{minutes}", String(Math.round(off / 60000))));
  }

  // Questions from headquarters: the navigation's count, asked again every half minute.
  var QUESTIONS_MS = 30000;
  function questionsPoll() {
    var link = document.querySelector("[data-questions-url]");
    if (!link) return;
    var shown = Number(link.querySelector("[data-questions-count]").textContent) || 0;
    function ask() {
      if (document.hidden) return;
      fetch(link.dataset.questionsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          clockCheck(data.now);
          link.querySelector("[data-questions-count]").textContent = data.waiting;
          link.hidden = !data.waiting;
          if (data.first_url) link.href = data.first_url;
          if (data.waiting > shown && strings.question) notice(strings.question);
          shown = data.waiting;
        })
        .catch(function () { /* offline: the next round asks again */ });
    }
    window.setInterval(ask, QUESTIONS_MS);
    document.addEventListener("visibilitychange", ask);  // back on the page: ask at once
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function notice(text) {
    var el = document.getElementById("notice");
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
  }

  // IndexedDB outbox

  function withStore(mode, action) {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = function () { open.result.createObjectStore(STORE, { keyPath: "uuid" }); };
      open.onerror = function () { reject(open.error); };
      open.onsuccess = function () {
        var tx = open.result.transaction(STORE, mode);
        var request = action(tx.objectStore(STORE));
        tx.oncomplete = function () { open.result.close(); resolve(request && request.result); };
        tx.onerror = tx.onabort = function () { open.result.close(); reject(tx.error); };
      };
    });
  }
  function outboxPut(item) { return withStore("readwrite", function (s) { return s.put(item); }); }
  function outboxDelete(uuid) { return withStore("readwrite", function (s) { return s.delete(uuid); }); }
  function outboxAll() { return withStore("readonly", function (s) { return s.getAll(); }); }

  // Draft

  function draftKey() { return "draft:" + form.getAttribute("action"); }

  function formFields() {
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && name !== "csrfmiddlewaretoken") fields.push([name, value]);
    });
    return fields;
  }

  function draftSave() {
    try { localStorage.setItem(draftKey(), JSON.stringify(formFields())); } catch (e) { /* full or disabled: the form still works */ }
  }

  function fieldsApply(fields) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.type === "checkbox" || el.type === "radio") el.checked = false;
    });
    fields.forEach(function (pair) {
      var els = form.querySelectorAll("[name='" + pair[0] + "']");
      Array.prototype.forEach.call(els, function (el) {
        if (el.type === "checkbox" || el.type === "radio") { if (el.value === pair[1]) el.checked = true; }
        else if (el.type !== "file") el.value = pair[1];
      });
    });
  }

  function draftRestore() {
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(draftKey()) || "null"); } catch (e) { saved = null; }
    if (!saved) return false;
    fieldsApply(saved);
    var opened = form.querySelector("input[name=category]:checked");
    if (opened && opened.closest("details")) opened.closest("details").open = true;
    return true;
  }

  function formFresh() {
    try { localStorage.removeItem(draftKey()); } catch (e) { /* nothing to remove */ }
    form.reset();
    form.elements.uuid.value = newUuid();
    if (form.elements.occurred_at) form.elements.occurred_at.value = electionNow();
  }

  // Errors shown next to the fields

  function errorsClear() {
    Array.prototype.forEach.call(form.querySelectorAll("ul.errors"), function (ul) { ul.textContent = ""; });
  }

  function errorsShow(errors) {
    errorsClear();
    Object.keys(errors).forEach(function (name) {
      var ul = document.getElementById("errors-" + name) || document.getElementById("errors-__all__");
      errors[name].forEach(function (message) {
        var li = document.createElement("li");
        li.textContent = message;
        ul.appendChild(li);
      });
    });
    var first = form.querySelector("ul.errors li");
    if (first) first.scrollIntoView({ block: "center" });
  }

  // Sending

  function itemFromForm() {
    var files = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      Array.prototype.forEach.call(input.files, function (file) {
        files.push({ field: input.name, name: file.name, blob: file });
      });
    });
    return {
      uuid: form.elements.uuid.value,
      action: form.getAttribute("action"),
      send: form.getAttribute("data-send") || "",
      fields: formFields(),
      files: files,
      savedAt: Date.now(),
      error: ""
    };
  }

  function send(item, timeoutMs) {
    var controller = timeoutMs && window.AbortController ? new AbortController() : null;
    if (controller) window.setTimeout(function () { controller.abort(); }, timeoutMs);
    var body = new FormData();
    item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    item.files.forEach(function (f) { body.append(f.field, f.blob, f.name); });
    // A signed-in page carries the phone's send key: an incident report then goes to the
    // lighter endpoint that reads the key instead of the session (views.report_send).
    var key = document.body.getAttribute("data-send-key");
    var headers = { "Accept": "application/json" };
    if (item.send && key) headers.Authorization = "SendKey " + key;
    else headers["X-CSRFToken"] = csrfToken();
    return fetch(item.send && key ? item.send : item.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
      headers: headers
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok && data.status) return { kind: "done", data: data };
        if (response.status === 400 && data.errors) return { kind: "invalid", data: data };
        if (response.status === 409) return { kind: "conflict", data: data };
        if (data.signin) return { kind: "signin", data: data };
        return { kind: "retry", data: data };
      });
    }, function () { return { kind: "offline", data: {} }; });
  }

  function attempt(item, timeoutMs) {
    if (inFlight[item.uuid]) return Promise.resolve({ kind: "busy", data: {} });
    inFlight[item.uuid] = true;
    return send(item, timeoutMs).then(function (result) {
      delete inFlight[item.uuid];
      var settle = result.kind === "done" || result.kind === "conflict" ? outboxDelete(item.uuid)
        : result.kind === "invalid" ? outboxPut(Object.assign({}, item, { error: errorText(result.data.errors) }))
        : Promise.resolve();
      return settle.then(function () { return result; });
    });
  }

  function errorText(errors) {
    return Object.keys(errors).map(function (name) { return errors[name].join(" "); }).join(" ");
  }

  function flush() {
    return outboxAll().then(function (items) {
      var chain = Promise.resolve();
      items.filter(function (item) { return !item.error; }).forEach(function (item) {
        chain = chain.then(function () {
          return attempt(item).then(function (result) {
            if (result.kind === "done") notice(strings.sentLater);
            if (result.kind === "conflict") notice(result.data.error);
            if (result.kind === "signin") notice(strings.signin);
            if (result.kind === "offline") throw result; // no connection: try all later
          });
        });
      });
      return chain;
    }).catch(function () { /* retried on the next "online" event or timer */ }).then(outboxShow);
  }

  // The list of reports waiting on this phone

  function outboxShow() {
    var box = document.getElementById("outbox");
    if (!box) return Promise.resolve();
    return outboxAll().then(function (items) {
      box.textContent = "";
      box.hidden = items.length === 0;
      if (!items.length) return;
      var title = document.createElement("p");
      title.textContent = strings.waiting + " " + items.length;
      box.appendChild(title);
      var list = document.createElement("ul");
      items.forEach(function (item) {
        var li = document.createElement("li");
        var description = item.fields.filter(function (p) { return p[0] === "description"; })[0];
        li.textContent = new Date(item.savedAt).toLocaleTimeString() + " " + (description ? description[1].slice(0, 60) : "");
        if (item.error && form && form.getAttribute("action") === item.action) {
          li.appendChild(document.createTextNode(" — " + strings.refused + " " + item.error + " "));
          var edit = document.createElement("button");
          edit.type = "button";
          edit.textContent = strings.edit;
          edit.addEventListener("click", function () { outboxEdit(item); });
          li.appendChild(edit);
        }
        list.appendChild(li);
      });
      box.appendChild(list);
    }).catch(function () { box.hidden = true; });
  }

  function outboxEdit(item) {
    fieldsApply(item.fields);
    var input = form.querySelector("input[type=file]");
    if (input && item.files.length && window.DataTransfer) {
      var transfer = new DataTransfer();
      item.files.forEach(function (f) { transfer.items.add(new File([f.blob], f.name, { type: f.blob.type })); });
      input.files = transfer.files;
    }
    draftSave();
    outboxDelete(item.uuid).then(outboxShow);
  }

  // The form

  function onSubmit(event) {
    if (!window.indexedDB || !window.fetch) return; // the browser posts the form itself
    event.preventDefault();
    var item = itemFromForm();
    var button = form.querySelector("[type=submit]");
    notice(strings.sending);
    button.disabled = true;
    outboxPut(item).then(function () {
      return attempt(item, SUBMIT_TIMEOUT_MS);
    }, function () {
      notice(strings.noStorage);
      form.submit();
      return null;
    }).then(function (result) {
      button.disabled = false;
      if (!result) return;
      if (result.kind === "done") {
        formFresh();
        window.location.assign(result.data.url);
      } else if (result.kind === "invalid") {
        outboxDelete(item.uuid).then(outboxShow);
        notice(strings.fix);
        errorsShow(result.data.errors);
      } else if (result.kind === "conflict") {
        form.elements.uuid.value = newUuid();
        draftSave();
        notice("");
        errorsShow({ __all__: [result.data.error] });
      } else {
        // Kept in the outbox: the form is free for the next report at once.
        formFresh();
        errorsClear();
        notice(result.kind === "signin" ? strings.signin : strings.queued);
        // The volunteer pressed "Send" at the bottom of a long form: bring the confirmation
        // and the list of what waits on this phone into view.
        outboxShow().then(function () {
          var box = document.getElementById("outbox") || document.getElementById("notice");
          if (box && box.scrollIntoView) box.scrollIntoView({ block: "start" });
        });
      }
    });
  }

  if (form) {
    if (!form.hasAttribute("data-bound")) {
      if (draftRestore()) notice(strings.restored);
      else formFresh();
    }
    form.addEventListener("input", draftSave);
    form.addEventListener("change", draftSave);
    form.addEventListener("submit", onSubmit);
    // The server's time in the page is fresh only when the page came from the network.
    var navigation = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation")[0] : null;
    if (navigation && navigation.transferSize > 0) clockCheck(Number(form.dataset.serverNow));
  }
  if (window.fetch) questionsPoll();

  if (!document.body.hasAttribute("data-observer") && window.caches) {
    // Signed out: forget the cached pages that belonged to the observer.
    caches.open("pages").then(function (cache) {
      cache.delete("/report/");
      cache.delete("/my/");
    });
  }

  if (window.indexedDB && window.fetch) {
    window.addEventListener("online", flush);
    window.setInterval(flush, RETRY_MS);
    flush();
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* offline reload unavailable */ });
  }
})();
