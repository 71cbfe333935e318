// Progressive enhancement only: every flow works without this file.
// Copy buttons: data-copy names an input (its value) or any element (its text).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const text = "value" in field ? field.value : field.textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    if ("select" in field) field.select();
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => (button.textContent = label), 2000);
});

// Snippet tabs: a [data-tabs] block of [data-tab] sections becomes a tab list (ARIA tabs
// pattern); without JavaScript every section stays visible with its heading.
for (const [n, block] of document.querySelectorAll("[data-tabs]").entries()) {
  const panels = [...block.querySelectorAll(":scope > [data-tab]")];
  if (panels.length < 2) continue;
  const list = document.createElement("div");
  list.className = "tabs";
  list.setAttribute("role", "tablist");
  const tabs = panels.map((panel, i) => {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.className = "tab";
    tab.id = `tabs-${n}-${i}`;
    tab.textContent = panel.dataset.tab;
    tab.setAttribute("role", "tab");
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", tab.id);
    list.append(tab);
    return tab;
  });
  const select = (i) => {
    tabs.forEach((t, j) => {
      t.setAttribute("aria-selected", String(i === j));
      t.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
  };
  list.addEventListener("click", (e) => {
    const i = tabs.indexOf(e.target.closest("[role=tab]"));
    if (i >= 0) select(i);
  });
  list.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(document.activeElement);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (i < 0 || !step) return;
    const next = (i + step + tabs.length) % tabs.length;
    select(next);
    tabs[next].focus();
  });
  block.classList.add("tabbed");
  block.prepend(list);
  select(0);
}
