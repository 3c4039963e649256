// Filters and sorts the matrix; the page is complete without this script.
(function () {
  "use strict";

  var table = document.getElementById("matrix-table");
  if (!table) {
    return;
  }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var details = {};
  Array.prototype.forEach.call(document.querySelectorAll("details.scenario"), function (d) {
    details[d.getAttribute("data-name")] = d;
  });
  var category = document.getElementById("filter-category");
  var verdict = document.getElementById("filter-verdict");
  var text = document.getElementById("filter-text");
  var count = document.getElementById("filter-count");

  function matches(row, wantCategory, wantVerdict, query) {
    if (wantVerdict && row.getAttribute("data-verdict") !== wantVerdict) {
      return false;
    }
    if (wantCategory && row.getAttribute("data-categories").split(" ").indexOf(wantCategory) < 0) {
      return false;
    }
    return !query || row.getAttribute("data-search").indexOf(query) >= 0;
  }

  // Hides non-matching matrix rows and their scenario sections alike.
  function applyFilters() {
    var wantCategory = category.value;
    var wantVerdict = verdict.value;
    var query = text.value.trim().toLowerCase();
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var visible = matches(row, wantCategory, wantVerdict, query);
      if (row.hidden === visible) {
        row.hidden = !visible;
        var section = details[row.getAttribute("data-name")];
        if (section) {
          section.hidden = !visible;
        }
      }
      if (visible) {
        shown++;
      }
    }
    count.textContent = shown + " of " + rows.length + " scenarios";
  }

  var collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

  // Sorts a table's body rows by the header's data-sort attribute, then by name.
  function sortBy(sortable, header) {
    var key = "data-" + header.getAttribute("data-sort");
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(sortable.tHead.querySelectorAll("th[data-sort]"), function (th) {
      th.setAttribute("aria-sort", "none");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var tbody = sortable.tBodies[0];
    var sorted = Array.prototype.slice.call(tbody.rows).sort(function (a, b) {
      var order = collator.compare(a.getAttribute(key) || "", b.getAttribute(key) || "");
      if (order === 0) {
        order = collator.compare(a.getAttribute("data-name"), b.getAttribute("data-name"));
      }
      return ascending ? order : -order;
    });
    var fragment = document.createDocumentFragment();
    sorted.forEach(function (row) {
      fragment.appendChild(row);
    });
    tbody.appendChild(fragment);
  }

  function makeSortable(sortable) {
    if (!sortable) {
      return;
    }
    Array.prototype.forEach.call(sortable.tHead.querySelectorAll("th[data-sort]"), function (th) {
      th.classList.add("sortable");
      th.setAttribute("aria-sort", "none");
      th.tabIndex = 0;
      th.addEventListener("click", function () {
        sortBy(sortable, th);
      });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(sortable, th);
        }
      });
    });
  }
  makeSortable(table);
  makeSortable(document.getElementById("protects-table"));

  // A category in the protects table filters the matrix to the scenarios showing it.
  Array.prototype.forEach.call(document.querySelectorAll("a[data-filter-category]"), function (link) {
    link.addEventListener("click", function () {
      var wanted = link.getAttribute("data-filter-category");
      var known = Array.prototype.some.call(category.options, function (option) {
        return option.value === wanted;
      });
      category.value = known ? wanted : "";
      applyFilters();
    });
  });

  category.addEventListener("change", applyFilters);
  verdict.addEventListener("change", applyFilters);
  text.addEventListener("input", applyFilters);
  document.getElementById("filters").hidden = false;

  // A scenario's detail arrives as the raw text of its <noscript> (the page's
  // own autoescaped markup) and is parsed into the section when it first opens.
  function materialize(section) {
    var holder = section.querySelector(":scope > noscript.lazy");
    if (!holder) {
      return;
    }
    var range = document.createRange();
    range.selectNode(holder);
    holder.replaceWith(range.createContextualFragment(holder.textContent));
  }
  document.addEventListener(
    "toggle",
    function (event) {
      var section = event.target;
      if (section.tagName === "DETAILS" && section.open) {
        materialize(section);
      }
    },
    true
  );
  Object.keys(details).forEach(function (name) {
    if (details[name].open) {
      materialize(details[name]);
    }
  });

  // A link to a scenario opens its section, even when the reader collapsed it.
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && target.tagName === "DETAILS") {
      target.open = true;
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  function setAll(open) {
    Object.keys(details).forEach(function (name) {
      if (!details[name].hidden) {
        details[name].open = open;
      }
    });
  }
  document.getElementById("open-all").addEventListener("click", function () {
    setAll(true);
  });
  document.getElementById("close-all").addEventListener("click", function () {
    setAll(false);
  });
  document.getElementById("bulk").hidden = false;
})();
