// rgnb book: click a figure to see it enlarged (click again or press Escape to close).
document.addEventListener("click", function (ev) {
  var open = document.querySelector(".rgnb-zoom");
  if (open) { open.remove(); ev.preventDefault(); return; }
  var img = ev.target.closest && ev.target.closest(".bd-article figure img");
  if (!img || img.closest("a")) return;
  var layer = document.createElement("div");
  layer.className = "rgnb-zoom";
  layer.setAttribute("role", "dialog");
  layer.setAttribute("aria-label", "enlarged figure (click or Escape to close)");
  var big = document.createElement("img");
  big.src = img.currentSrc || img.src;
  big.alt = img.alt || "";
  layer.appendChild(big);
  document.body.appendChild(layer);
});
document.addEventListener("keydown", function (ev) {
  var open = document.querySelector(".rgnb-zoom");
  if (open && ev.key === "Escape") open.remove();
});

// The site check (python -m rgnb check-site) loads a page with ?rgnb-measure and reads the layout it
// measured from <script id="rgnb-measure" type="application/json"> in the dumped DOM. Inert otherwise.
function rgnbMeasure() {
  var vw = window.innerWidth, vh = window.innerHeight;
  var article = document.querySelector("article.bd-article") || document.body;
  var box = function (el) { var r = el.getBoundingClientRect(); return {x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height, right: r.right}; };
  var tables = Array.prototype.map.call(article.querySelectorAll("table"), function (t) {
    var scroller = t.parentElement, scrolls = false;
    for (var el = t.parentElement; el && el !== article; el = el.parentElement) {
      var ox = getComputedStyle(el).overflowX;
      if (ox === "auto" || ox === "scroll") { scroller = el; scrolls = true; break; }
    }
    var verdict = t.querySelector(".rgnb-verdict-cell, .rgnb-verdict");
    return {claims: t.classList.contains("rgnb-claims"), box: box(t), container: box(scroller), scrolls: scrolls,
            verdict_right: verdict ? verdict.getBoundingClientRect().right : null,
            text: (t.innerText || "").slice(0, 60)};
  });
  var images = Array.prototype.map.call(article.querySelectorAll("figure img"), function (im) {
    return {src: im.getAttribute("src"), natural: im.naturalWidth, shown: im.getBoundingClientRect().width};
  });
  var overflow = [];
  Array.prototype.forEach.call(document.body.querySelectorAll("*"), function (el) {
    if (overflow.length >= 3 || el.closest(".rgnb-zoom")) return;
    var r = el.getBoundingClientRect();
    if (r.right <= vw + 1 || r.width === 0) return;
    for (var p = el.parentElement; p; p = p.parentElement) {
      var ox = getComputedStyle(p).overflowX;
      if (ox === "auto" || ox === "scroll" || ox === "hidden") return;
    }
    overflow.push(el.tagName.toLowerCase() + "." + (el.className || "").toString().split(" ").join(".") + " to " + Math.round(r.right) + " px");
  });
  var first = article.querySelector(".rgnb-dashboard .rgnb-verdict, .rgnb-dashboard");
  var out = {viewport: [vw, vh], scroll_width: document.documentElement.scrollWidth, overflow: overflow,
             article: box(article), tables: tables, images: images,
             dashboard_y: first ? box(first).y : null,
             first_screen: (article.innerText || "").slice(0, 1500)};
  var s = document.createElement("script");
  s.type = "application/json"; s.id = "rgnb-measure"; s.textContent = JSON.stringify(out);
  document.body.appendChild(s);
}
if (window.location.search.indexOf("rgnb-measure") >= 0) {
  window.addEventListener("load", function () { setTimeout(rgnbMeasure, 1500); });
}
