{% load static %}/* Service worker: lets the report pages open without a connection.
 * Network first for every same-origin GET of a page below or a static file; the last good
 * answer is kept and served when the network fails. Posts are never touched: the page's
 * script keeps unsent reports in its own outbox. */
"use strict";

var PAGES = ["/", "/report/", "/my/", "/citizen/"];
var STATIC = "{% get_static_prefix %}";
var PRECACHE = ["{% static 'reports/site.css' %}", "{% static 'reports/report.js' %}"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open("static").then(function (cache) { return cache.addAll(PRECACHE); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var cacheName = url.pathname.indexOf(STATIC) === 0 ? "static"
    : PAGES.indexOf(url.pathname) !== -1 && !url.search ? "pages" : null;
  if (!cacheName) return;
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(cacheName).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }, function () {
      return caches.open(cacheName).then(function (cache) {
        return cache.match(url.pathname).then(function (hit) { return hit || Response.error(); });
      });
    })
  );
});
