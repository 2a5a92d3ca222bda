/* paperwire: progressive enhancement for the server-rendered pages.
 *
 * Every page works without this file.  With it: math in titles and abstracts (KaTeX, when
 * it is in static/vendor, as shipped), keyboard shortcuts (j/k move, u upvote, a abstract,
 * o open, h/l previous/next period, / search, ? help), upvote and subscribe without a page
 * reload, a "New" badge on papers listed since the reader's last visit, and the search
 * suggestions that htmx fetches as you type (their keyboard handling lives here).
 *
 * No inline scripts (the CSP is script-src 'self'), no eval, nothing loaded from elsewhere.
 * Text from papers is only ever read as text: nothing here parses it as HTML.
 */
(function () {
  "use strict";

  var doc = document;
  var SESSION_GAP_MS = 30 * 60 * 1000; // a visit ends after 30 idle minutes
  var KEY_VISIT = "paperwire.lastVisit";
  var KEY_SEEN = "paperwire.lastSeen";
  var MATH_SELECTOR = ".card .title, .abstract, .paper > h1, .suggest .t, .related a";
  // An opening "$" not followed by a digit or a space: "$65 and $70" stays text.
  var LOOKS_LIKE_MATH = /\$\$[^$]+\$\$|\$[^$\d\s][^$]*\$/;

  function $all(selector, root) {
    return Array.prototype.slice.call((root || doc).querySelectorAll(selector));
  }

  /* ---- a polite live region for what happened without a reload ---- */
  function announce(text) {
    var box = doc.getElementById("pw-status");
    if (!box) {
      box = doc.createElement("div");
      box.id = "pw-status";
      box.className = "vh";
      box.setAttribute("role", "status");
      doc.body.appendChild(box);
    }
    box.textContent = "";
    window.setTimeout(function () { box.textContent = text; }, 30);
  }

  /* ---- math: KaTeX auto-render on text nodes (the server escaped them) ---- */
  function renderMath(root) {
    if (typeof window.renderMathInElement !== "function") return;
    $all(MATH_SELECTOR, root).forEach(function (el) {
      if (el.getAttribute("data-math") || !LOOKS_LIKE_MATH.test(el.textContent)) return;
      el.setAttribute("data-math", "1");
      try {
        window.renderMathInElement(el, {
          delimiters: [
            { left: "$$", right: "$$", display: true },
            { left: "$", right: "$", display: false }
          ],
          throwOnError: false,
          trust: false,
          strict: "ignore",
          maxExpand: 200,
          maxSize: 20
        });
      } catch (err) {
        /* the readable source text stays */
      }
    });
  }

  /* ---- "New" since the last visit (localStorage; nothing leaves the browser) ---- */
  function lastVisit() {
    var store;
    try { store = window.localStorage; } catch (err) { return null; }
    if (!store) return null;
    var now = Date.now();
    var seen = parseInt(store.getItem(KEY_SEEN), 10);
    var visit = parseInt(store.getItem(KEY_VISIT), 10);
    if (!seen) {
      visit = now; // first visit: nothing is "new" yet
    } else if (now - seen > SESSION_GAP_MS || !visit) {
      visit = seen; // a new visit: new means newer than the previous one
    }
    try {
      store.setItem(KEY_VISIT, String(visit));
      store.setItem(KEY_SEEN, String(now));
    } catch (err) { /* private mode: no badges */ }
    return visit;
  }

  function markNew() {
    var visit = lastVisit();
    if (!visit) return;
    var since = new Date(visit).toISOString().slice(0, 10);
    $all(".card [data-day]").forEach(function (body) {
      if (body.getAttribute("data-day") <= since) return;
      var title = body.querySelector(".title");
      if (!title || title.querySelector(".new")) return;
      var badge = doc.createElement("span");
      badge.className = "new";
      badge.textContent = "New";
      var hint = doc.createElement("span");
      hint.className = "vh";
      hint.textContent = " since your last visit";
      badge.appendChild(hint);
      title.insertBefore(badge, title.firstChild);
    });
  }

  /* ---- upvote without a reload (falls back to the plain form POST) ---- */
  function csrfOf(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function signedIn() {
    return !!doc.querySelector("nav.account form[action='/logout']");
  }

  function plainSubmit(form) {
    HTMLFormElement.prototype.submit.call(form);
  }

  function vote(form) {
    var button = form.querySelector("button");
    if (!button || button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json", "X-CSRF-Token": csrfOf(form) },
      credentials: "same-origin",
      redirect: "manual"
    }).then(function (response) {
      var json = (response.headers.get("content-type") || "").indexOf("json") >= 0;
      if (!response.ok || !json) throw new Error("not a vote");
      return response.json();
    }).then(function (state) {
      button.removeAttribute("aria-busy");
      $all(".count", form).forEach(function (c) { c.textContent = String(state.upvotes); });
      button.setAttribute("aria-pressed", state.upvoted ? "true" : "false");
      button.classList.toggle("voted", !!state.upvoted);
      form.classList.toggle("voted", !!state.upvoted);
      if (form.classList.contains("vote-form") && button.firstChild &&
          button.firstChild.nodeType === 3) {
        button.firstChild.textContent = "▲ " + (state.upvoted ? "Upvoted" : "Upvote") + " ";
      }
      var split = form.parentNode && form.parentNode.querySelector(".split");
      if (split) {
        split.textContent = state.upvotes + " upvote" + (state.upvotes === 1 ? "" : "s") +
          ": " + state.hfUpvotes + " on Hugging Face + " + state.localUpvotes + " here";
      }
      form.title = state.upvotes + " upvotes: upvote or withdraw yours";
      announce((state.upvoted ? "Upvoted. " : "Upvote withdrawn. ") + state.upvotes + " upvotes.");
    }).catch(function () {
      button.removeAttribute("aria-busy");
      plainSubmit(form); // signed out, expired form, ...: the server's page explains
    });
  }

  /* ---- subscribe without a reload: show the server's answer beside the form ---- */
  function subscribe(form) {
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "text/html", "X-CSRF-Token": csrfOf(form) },
      credentials: "same-origin"
    }).then(function (response) {
      return response.text().then(function (html) { return { ok: response.ok, html: html }; });
    }).then(function (answer) {
      // An inert document: nothing in it runs; only its text is used.
      var page = new DOMParser().parseFromString(answer.html, "text/html");
      var box = page.querySelector("main .digest-page, main .notice") || page.querySelector("main");
      if (!box) throw new Error("no answer");
      var heading = box.querySelector("h1, h2");
      var para = box.querySelector("p");
      var notice = form.parentNode.querySelector(".pw-notice");
      if (!notice) {
        notice = doc.createElement("div");
        notice.setAttribute("role", "status");
        form.parentNode.insertBefore(notice, form.nextSibling);
      }
      notice.className = "pw-notice " + (answer.ok ? "ok" : "bad");
      notice.textContent = "";
      var strong = doc.createElement("strong");
      strong.textContent = heading ? heading.textContent.trim() : (answer.ok ? "Done" : "Error");
      notice.appendChild(strong);
      if (para) notice.appendChild(doc.createTextNode(" " + para.textContent.trim()));
      if (answer.ok) form.reset();
      if (button) button.disabled = false;
    }).catch(function () {
      if (button) button.disabled = false;
      plainSubmit(form);
    });
  }

  doc.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !window.fetch) return;
    if (form.matches("form.votes, form.vote-form")) {
      if (!signedIn()) return; // the plain POST leads to the sign-in page and back
      event.preventDefault();
      vote(form);
    } else if (form.matches("form.digest-form")) {
      event.preventDefault();
      subscribe(form);
    }
  });

  /* ---- keyboard: j/k move between cards, u upvotes, a abstract, o open, / search ---- */
  function cards() { return $all(".cards > .card"); }

  function currentIndex(list) {
    var active = doc.activeElement && doc.activeElement.closest
      ? doc.activeElement.closest(".cards > .card") : null;
    var marked = doc.querySelector(".cards > .card.current");
    return list.indexOf(active || marked);
  }

  function select(list, i) {
    if (!list.length) return;
    i = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (c) { c.classList.remove("current"); });
    var card = list[i];
    card.classList.add("current");
    if (!card.hasAttribute("tabindex")) card.setAttribute("tabindex", "-1");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  function current() {
    var list = cards();
    var i = currentIndex(list);
    return i >= 0 ? list[i] : null;
  }

  function follow(selector) {
    var link = doc.querySelector(selector);
    if (link) link.click();
    return !!link;
  }

  function toggleHelp() {
    var dialog = doc.getElementById("pw-keys");
    if (!dialog) {
      dialog = doc.createElement("dialog");
      dialog.id = "pw-keys";
      dialog.setAttribute("aria-labelledby", "pw-keys-title");
      var h = doc.createElement("h2");
      h.id = "pw-keys-title";
      h.textContent = "Keyboard shortcuts";
      dialog.appendChild(h);
      var dl = doc.createElement("dl");
      [["j / k", "next / previous paper"], ["u", "upvote the paper (again: withdraw)"],
       ["a", "show or hide its abstract"], ["o or Enter", "open the paper"],
       ["h / l", "previous / next day, week or month"], ["/", "search"],
       ["Esc", "leave the search box"], ["?", "this help"]].forEach(function (row) {
        var dt = doc.createElement("dt");
        var kbd = doc.createElement("kbd");
        kbd.textContent = row[0];
        dt.appendChild(kbd);
        var dd = doc.createElement("dd");
        dd.textContent = row[1];
        dl.appendChild(dt);
        dl.appendChild(dd);
      });
      dialog.appendChild(dl);
      var form = doc.createElement("form");
      form.method = "dialog";
      var close = doc.createElement("button");
      close.className = "button";
      close.textContent = "Close";
      form.appendChild(close);
      dialog.appendChild(form);
      doc.body.appendChild(dialog);
    }
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  doc.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (typing(target)) {
      if (event.key === "Escape") { closeSuggest(); target.blur(); }
      return;
    }
    var list, card;
    switch (event.key) {
      case "j":
      case "k":
        list = cards();
        if (!list.length) return;
        var i = currentIndex(list);
        select(list, i < 0 ? 0 : i + (event.key === "j" ? 1 : -1));
        break;
      case "u":
        card = current();
        var up = card ? card.querySelector("form.votes") : doc.querySelector("form.vote-form");
        if (!up) return;
        if (up.requestSubmit) up.requestSubmit(); else vote(up);
        break;
      case "a":
        card = current();
        var details = card && card.querySelector("details");
        if (!details) return;
        details.open = !details.open;
        break;
      case "o":
      case "Enter":
        card = current();
        if (!card || (event.key === "Enter" && target !== card)) return;
        card.querySelector(".title a").click();
        break;
      case "h":
        if (!follow(".periods a[rel=prev]")) return;
        break;
      case "l":
        if (!follow(".periods a[rel=next]")) return;
        break;
      case "/":
        var box = doc.getElementById("site-q");
        if (!box) return;
        box.focus();
        box.select();
        break;
      case "?":
        toggleHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  /* ---- search suggestions (htmx fills #site-q-suggest as you type) ---- */
  function suggestBox() { return doc.getElementById("site-q-suggest"); }

  function closeSuggest() {
    var box = suggestBox();
    if (box) { box.hidden = true; }
  }

  function setupSuggest() {
    var input = doc.getElementById("site-q");
    var box = suggestBox();
    if (!input || !box) return;
    doc.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.target !== box) return;
      var has = box.children.length > 0 && input.value.trim() !== "";
      box.hidden = !has;
      renderMath(box);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !box.hidden) {
        var first = box.querySelector("a");
        if (first) { first.focus(); event.preventDefault(); }
      }
    });
    box.addEventListener("keydown", function (event) {
      var links = $all("a", box);
      var i = links.indexOf(doc.activeElement);
      if (event.key === "ArrowDown" && i >= 0) {
        (links[i + 1] || links[i]).focus();
      } else if (event.key === "ArrowUp" && i >= 0) {
        (i === 0 ? input : links[i - 1]).focus();
      } else if (event.key === "Escape") {
        closeSuggest();
        input.focus();
      } else {
        return;
      }
      event.preventDefault();
    });
    doc.addEventListener("click", function (event) {
      if (!box.contains(event.target) && event.target !== input) closeSuggest();
    });
  }

  function hint() {
    var footer = doc.querySelector("footer.site");
    if (!footer || !doc.querySelector(".cards")) return;
    var p = doc.createElement("p");
    p.className = "keys-hint";
    p.textContent = "Keyboard: j/k to move, u to upvote, / to search, ? for all shortcuts.";
    footer.appendChild(p);
  }

  function start() {
    doc.documentElement.classList.add("js");
    renderMath(doc);
    markNew();
    setupSuggest();
    hint();
  }

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start);
  else start();
})();
