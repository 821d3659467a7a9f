// search.js: the HTML book's offline search box.
// SEARCH_INDEX (search-index.js, written by book/tools/nw2html) holds
// [kind, title, link, text] for every section ("s"), chunk ("c") and
// identifier ("i").  A query matches an entry when every word of it
// occurs in the entry's title or text; titles that match rank first.
// Nothing is fetched: both files are loaded by <script> tags, which
// works from file:// as well as from a web server.
(function () {
  var box = document.getElementById("search-box");
  var list = document.getElementById("search-results");
  if (!box || !list || typeof SEARCH_INDEX === "undefined") return;
  var kinds = { s: "", c: "chunk ", i: "identifier " };

  function snippet(text, word) {
    var at = text.toLowerCase().indexOf(word);
    if (at < 0) return text.slice(0, 120);
    var from = Math.max(0, at - 50);
    return (from > 0 ? "…" : "") + text.slice(from, at + 70) + "…";
  }

  function show(query) {
    list.innerHTML = "";
    var words = query.toLowerCase().split(/\s+/).filter(function (w) { return w; });
    if (!words.length) return;
    var hits = [];
    SEARCH_INDEX.forEach(function (e) {
      var title = e[1].toLowerCase(), text = e[3].toLowerCase(), score = 0;
      for (var i = 0; i < words.length; i++) {
        if (title.indexOf(words[i]) >= 0) score += 10;
        else if (text.indexOf(words[i]) >= 0) score += 1;
        else return;
      }
      hits.push([score, e]);
    });
    hits.sort(function (a, b) { return b[0] - a[0]; });
    hits.slice(0, 30).forEach(function (h) {
      var e = h[1], li = document.createElement("li"), a = document.createElement("a");
      a.href = e[2];
      a.textContent = kinds[e[0]] + e[1];
      li.appendChild(a);
      if (e[3]) {
        var p = document.createElement("div");
        p.className = "snippet";
        p.textContent = snippet(e[3], words[0]);
        li.appendChild(p);
      }
      list.appendChild(li);
    });
    if (!hits.length) list.innerHTML = "<li>No matches.</li>";
  }

  box.addEventListener("input", function () { show(box.value); });
  var q = /[?&]q=([^&]*)/.exec(location.search);   // index.html?q=words
  if (q) { box.value = decodeURIComponent(q[1].replace(/\+/g, " ")); show(box.value); }
})();
