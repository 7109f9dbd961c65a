/* aap: progressive enhancement. Every page works without this file; with it:
   - a dossier section saves itself a moment after typing (« Enregistré à 14 h 32 »), and keeps a copy
     of unsaved answers in this browser so that nothing typed is lost (reload, stale version, offline);
   - conditional questions show only when they apply;
   - the SIRET fills the organisation's name and address when the registry knows it;
   - the error summary takes the focus so screen readers announce it;
   - the sticky save bar never covers the field that has the focus;
   - the budget shows its totals as they are typed, and a table of lines gets « Ajouter une ligne ». */
(function () {
  "use strict";

  var AUTOSAVE_DELAY_MS = 1500;

  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // --- error summary first -------------------------------------------------------------------------
  function focusProblems() {
    var summary = document.querySelector(".error-summary, #probleme");
    if (summary) { summary.focus(); }
  }

  // --- conditional fields ---------------------------------------------------------------------------
  function conditionalFields(form) {
    var wrappers = $all("[data-show-when]", form);
    if (!wrappers.length) { return; }
    function currentValue(name) {
      var inputs = $all('[name="' + name + '"]', form);
      for (var i = 0; i < inputs.length; i++) {
        var el = inputs[i];
        if (el.type === "radio" || el.type === "checkbox") {
          if (el.checked) { return el.value; }
        } else {
          return el.value;
        }
      }
      return "";
    }
    function update() {
      wrappers.forEach(function (w) {
        var rule = w.getAttribute("data-show-when");
        var eq = rule.indexOf("=");
        var name = rule.slice(0, eq), expected = rule.slice(eq + 1);
        var show = currentValue(name) === expected;
        // Never hide a field that holds an answer or an error: the person must see it.
        var filled = $all("input, select, textarea", w).some(function (el) {
          return (el.type === "checkbox" || el.type === "radio") ? el.checked : el.value;
        });
        w.hidden = !show && !filled && !w.classList.contains("field-invalid");
      });
    }
    form.addEventListener("change", update);
    update();
  }

  // --- autosave -------------------------------------------------------------------------------------
  function fieldsOf(form) {
    return $all("input, select, textarea", form).filter(function (el) {
      return el.name && el.type !== "hidden" && el.type !== "submit" && el.type !== "button" && el.type !== "file";
    });
  }

  function snapshot(form) {
    var out = {};
    fieldsOf(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        out[el.name + "\u0000" + el.value] = el.checked;
      } else {
        out[el.name] = el.value;
      }
    });
    return out;
  }

  // Lines added in the browser and not saved yet: add them again before putting their answers back.
  function ensureRows(form, saved) {
    Object.keys(saved).forEach(function (key) {
      var name = key.split("\u0000")[0];
      if (fieldsOf(form).some(function (el) { return el.name === name; })) { return; }
      $all("fieldset[data-list]", form).forEach(function (list) {
        var base = list.getAttribute("data-list") + ".";
        if (name.indexOf(base) !== 0 || !list.aapAddRow) { return; }
        var index = parseInt(name.slice(base.length).split(".")[0], 10);
        while (!isNaN(index) && list.aapRowCount() <= index && list.aapAddRow(false)) { /* one line more */ }
      });
    });
  }

  function restore(form, saved) {
    ensureRows(form, saved);
    var changed = false;
    fieldsOf(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        var key = el.name + "\u0000" + el.value;
        if (key in saved && el.checked !== saved[key]) { el.checked = saved[key]; changed = true; }
      } else if (el.name in saved && el.value !== saved[el.name]) {
        el.value = saved[el.name]; changed = true;
      }
    });
    return changed;
  }

  function autosave(form) {
    var status = document.getElementById("autosave-status");
    var versionInput = form.querySelector("[data-version]");
    var key = "aap:dossier:" + form.getAttribute("data-dossier") + ":" + form.getAttribute("data-section");
    var timer = null, inFlight = false, again = false, blocked = false;

    function say(text, kind) {
      if (!status) { return; }
      status.textContent = text;
      status.className = "autosave-status" + (kind ? " " + kind : "");
    }
    function keepCopy() {
      try { localStorage.setItem(key, JSON.stringify({ at: Date.now(), fields: snapshot(form) })); } catch (e) { /* private mode */ }
    }
    function dropCopy() {
      try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
    }
    function updateChecklist(missing) {
      Object.keys(missing || {}).forEach(function (section) {
        $all('[data-missing-for="' + section + '"]').forEach(function (el) {
          var n = missing[section];
          el.textContent = n === 0 ? "complet" : n + " réponse" + (n > 1 ? "s" : "") + " manquante" + (n > 1 ? "s" : "");
          var li = el.closest("li");
          if (li) { li.classList.toggle("done", n === 0); li.classList.toggle("todo", n > 0); }
        });
      });
    }

    function save() {
      if (blocked) { return; }
      if (inFlight) { again = true; return; }
      inFlight = true;
      var body = new FormData(form);
      body.set("action", "autosave");
      say("Enregistrement en cours…");
      fetch(form.getAttribute("action"), { method: "POST", body: body, headers: { "X-Autosave": "1", "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.json().catch(function () { return { ok: false, status: response.status }; })
            .then(function (data) { data.status = data.status || response.status; return data; });
        })
        .then(function (data) {
          if (data.ok) {
            versionInput.value = data.version;
            updateChecklist(data.missing);
            if (!again) { dropCopy(); }
            say(data.message || ("Enregistré à " + data.saved_at + "."), "ok");
          } else if (data.status === 412) {
            blocked = true;
            keepCopy();
            say("Ce dossier a été modifié ailleurs : vos dernières saisies ne sont pas enregistrées sur le serveur, " +
                "mais elles sont gardées dans ce navigateur. Rechargez la page : elles seront remises en place.", "error");
          } else if (data.status === 422) {
            var n = (data.errors || []).length;
            say("Non enregistré : " + (n > 1 ? n + " réponses sont invalides" : "une réponse est invalide") +
                " (" + (data.errors && data.errors[0] ? data.errors[0].message : "") + "). Corrigez-la pour que l'enregistrement reprenne.", "error");
          } else if (data.status === 403) {
            say("Votre session a expiré : rechargez la page (vos saisies sont gardées dans ce navigateur).", "error");
          } else {
            say(data.message || "Enregistrement automatique impossible pour le moment ; vos saisies sont gardées dans ce navigateur.", "error");
          }
        })
        .catch(function () {
          say("Pas de connexion : vos saisies sont gardées dans ce navigateur et seront enregistrées dès que possible.", "error");
        })
        .then(function () {
          inFlight = false;
          if (again) { again = false; schedule(); }
        });
    }
    function schedule() {
      keepCopy();
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(save, AUTOSAVE_DELAY_MS);
    }

    if (status && !status.textContent) { say("Enregistrement automatique activé : vos réponses sont enregistrées pendant que vous écrivez."); }

    // What this browser kept and the server did not get: put it back, then save it.
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { kept = null; }
    if (kept && kept.fields && restore(form, kept.fields)) {
      say("Nous avons remis en place des saisies non enregistrées de votre dernière visite ; elles vont être enregistrées.");
      schedule();
    } else if (kept) {
      dropCopy();
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("submit", function () { keepCopy(); if (timer) { clearTimeout(timer); } });
  }

  // --- budget totals, added up again as the person types -------------------------------------------
  // The server marks each amount a total adds up (data-sum="<rule>:<side>", from the form's rules) and
  // gives the sentences; this only adds the marked amounts up and shows them. The server stays the judge.
  function cents(text) {
    var t = String(text || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (t === "") { return 0; }
    var m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(t);
    if (!m) { return null; }
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }
  var EUROS = window.Intl ? new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" }) : null;
  function euros(c) { return EUROS ? EUROS.format(c / 100) : (c / 100).toFixed(2).replace(".", ",") + " €"; }

  function liveTotals(form) {
    var boxes = $all("[data-totals]", form);
    if (!boxes.length) { return; }
    function side(code, name) {
      var total = 0, readable = true;
      $all("[data-sum]", form).forEach(function (el) {
        if ((" " + el.getAttribute("data-sum") + " ").indexOf(" " + code + ":" + name + " ") < 0) { return; }
        var c = cents(el.value);
        if (c === null) { readable = false; } else { total += c; }
      });
      return readable ? total : null;
    }
    function update() {
      boxes.forEach(function (box) {
        var code = box.getAttribute("data-totals");
        var left = side(code, "left"), right = side(code, "right");
        box.querySelector('[data-side="left"]').textContent = left === null ? "—" : euros(left);
        box.querySelector('[data-side="right"]').textContent = right === null ? "—" : euros(right);
        var verdict = "";
        if (left === null || right === null) {
          verdict = box.getAttribute("data-text-unreadable");
        } else if (box.getAttribute("data-kind") === "balance") {
          verdict = left === right ? box.getAttribute("data-text-equal")
            : box.getAttribute("data-text-gap").replace("{ecart}", euros(Math.abs(left - right)));
        } else if (left > right) {
          verdict = box.getAttribute("data-text-over").replace("{ecart}", euros(left - right));
        }
        box.querySelector("[data-verdict]").textContent = verdict;
      });
    }
    form.addEventListener("input", update);
    form.addEventListener("aap:rows", update);
    update();
  }

  // --- « Ajouter une ligne » under each table of lines ------------------------------------------------
  // Without JavaScript the page offers blank lines; with it, a new line is a copy of the last one, its
  // names and ids renumbered (budget.charges.3.montant), empty, and takes the focus.
  function addLineButtons(form) {
    $all("fieldset[data-list]", form).forEach(function (list) {
      var max = parseInt(list.getAttribute("data-max-items") || "0", 10);
      var label = list.querySelector("legend");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button secondary small add-line";
      button.textContent = "Ajouter une ligne";
      if (label) { button.setAttribute("aria-label", "Ajouter une ligne : " + label.textContent.replace("*", "").trim()); }
      list.appendChild(button);
      function rows() { return $all(":scope > fieldset[data-row]", list); }
      function refresh() { button.hidden = max > 0 && rows().length >= max; }
      function addRow(focus) {
        var all = rows(), last = all[all.length - 1];
        if (!last || button.hidden) { return false; }
        var from = parseInt(last.getAttribute("data-row"), 10), to = from + 1;
        var base = list.getAttribute("data-list"), baseId = list.id;
        var copy = last.cloneNode(true);
        function renumber(value, sep, prefix) {
          var old = prefix + sep + from, now = prefix + sep + to;
          return value.indexOf(old) === 0 ? now + value.slice(old.length) : value;
        }
        copy.setAttribute("data-row", String(to));
        copy.id = renumber(copy.id, "-", baseId);
        var legend = copy.querySelector("legend");
        if (legend) { legend.textContent = "Ligne " + (all.length + 1); }
        $all("[id], [for], [name], [aria-describedby]", copy).forEach(function (el) {
          if (el.id) { el.id = renumber(el.id, "-", baseId); }
          if (el.htmlFor) { el.htmlFor = renumber(el.htmlFor, "-", baseId); }
          if (el.name) { el.name = renumber(el.name, ".", base); }
          var described = el.getAttribute("aria-describedby");
          if (described) {
            el.setAttribute("aria-describedby", described.split(" ").filter(function (id) { return !/-error$/.test(id); })
              .map(function (id) { return renumber(id, "-", baseId); }).join(" "));
          }
          el.removeAttribute("aria-invalid");
          if (el.tagName === "SELECT") { el.selectedIndex = 0; }
          else if (el.type === "checkbox" || el.type === "radio") { el.checked = false; }
          else if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") { el.value = ""; }
        });
        $all(".field-error", copy).forEach(function (el) { el.parentNode.removeChild(el); });
        $all(".field-invalid", copy).forEach(function (el) { el.classList.remove("field-invalid"); });
        last.parentNode.insertBefore(copy, last.nextSibling);
        refresh();
        form.dispatchEvent(new Event("aap:rows"));
        var first = copy.querySelector("input, select, textarea");
        if (first && focus) { first.focus(); }
        return true;
      }
      button.addEventListener("click", function () { addRow(true); });
      list.aapAddRow = addRow;  // the autosave's copy of added lines puts them back (restore)
      list.aapRowCount = function () { return rows().length; };
      refresh();
    });
  }

  // --- the sticky save bar never hides the focused field (WCAG 2.4.11) -------------------------------
  function saveBarPadding(bar) {
    function measure() {
      document.documentElement.style.setProperty("--save-bar-height", bar.getBoundingClientRect().height + "px");
    }
    measure();
    window.addEventListener("resize", measure);
    if (window.ResizeObserver) { new ResizeObserver(measure).observe(bar); }  // the status line grows
    // The browser scrolls a focused field into view only when it is off screen: one that is on screen
    // but under the bar is scrolled up above it here.
    document.addEventListener("focusin", function (event) {
      var el = event.target;
      if (!el || !el.getBoundingClientRect || bar.contains(el) || getComputedStyle(bar).position !== "sticky") { return; }
      var box = el.getBoundingClientRect(), top = bar.getBoundingClientRect().top;
      var hidden = box.bottom - top + 8;
      if (hidden > 0) { window.scrollBy(0, Math.min(hidden, Math.max(box.top - 8, 0))); }
    });
  }

  // --- SIRET prefill --------------------------------------------------------------------------------
  function siretLookup(form) {
    var siret = form.querySelector('[name="siret"]');
    var status = document.getElementById("siret-status");
    if (!siret) { return; }
    var fill = {
      name: ["name", "nom", "denomination", "nom_complet"],
      address_line: ["address_line", "adresse", "address"],
      postal_code: ["postal_code", "code_postal"],
      city: ["city", "commune", "libelle_commune"],
      rna: ["rna"]
    };
    siret.addEventListener("change", function () {
      var digits = siret.value.replace(/\s/g, "");
      if (!/^\d{14}$/.test(digits)) { return; }
      fetch("/inscription/siret/" + digits, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var org = data.organisation || data;
          var filled = 0;
          Object.keys(fill).forEach(function (field) {
            var input = form.querySelector('[name="' + field + '"]');
            if (!input || input.value) { return; }
            for (var i = 0; i < fill[field].length; i++) {
              var v = org[fill[field][i]];
              if (typeof v === "string" && v) { input.value = v; filled++; break; }
            }
          });
          if (filled && status) { status.textContent = "Nom et adresse complétés d'après le répertoire des entreprises : vérifiez-les."; }
        })
        .catch(function () { /* the form works without it */ });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusProblems();
    $all("form").forEach(conditionalFields);
    $all("form").forEach(addLineButtons);  // before the autosave, which may put added lines back
    $all("form[data-autosave]").forEach(autosave);
    $all("form[data-siret-lookup]").forEach(siretLookup);
    $all("form").forEach(liveTotals);
    $all(".save-bar").slice(0, 1).forEach(saveBarPadding);
  });
})();
