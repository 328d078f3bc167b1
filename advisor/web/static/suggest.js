// Progressive enhancement only: the form works without this. As the user types in a station
// field, fill the shared <datalist> with matches from the JSON API (same host).
(function () {
  "use strict";
  var list = document.getElementById("stations");
  if (!list || !window.fetch) { return; }
  var lang = document.documentElement.lang || "uk";
  var timer = null;
  var hints = { kinds: {}, oblasts: {} };
  try { hints = JSON.parse(list.getAttribute("data-hints") || "{}"); } catch (e) { /* no hints */ }
  // "railway station, Donetsk obl." under each name: same-named places stay apart.
  function hint(item) {
    var parts = [(hints.kinds || {})[item.kind], (hints.oblasts || {})[item.oblast_iso]];
    return parts.filter(Boolean).join(", ");
  }
  // When some names start with what was typed, show only those: "Крам" should not offer
  // "Крим" next to "Краматорськ". Typos and other scripts ("Kram") keep every match.
  function startingWith(items, text) {
    var typed = text.toLocaleLowerCase();
    var found = items.filter(function (item) {
      return item.name.toLocaleLowerCase().indexOf(typed) === 0;
    });
    return found.length ? found : items;
  }
  function fill(items) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.name;
      option.label = hint(item);
      list.appendChild(option);
    });
  }
  function lookup(input) {
    var text = input.value.trim();
    if (text.length < 2) { return; }
    var url = input.getAttribute("data-suggest") + "?limit=8&lang=" + encodeURIComponent(lang) +
      "&q=" + encodeURIComponent(text);
    fetch(url, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { stations: [] }; })
      .then(function (body) { fill(startingWith(body.stations || [], text)); })
      .catch(function () { /* offline or rate-limited: keep the server-filled list */ });
  }
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { lookup(input); }, 200);
    });
  });
})();
