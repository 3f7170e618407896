// Safe renderers for the sandbox page: Telegram entities, Slack mrkdwn and Block Kit, built as DOM nodes.
// Bot and user text only ever reaches the page through textContent and createElement: never innerHTML.
"use strict";

const R = (() => {
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-") || key === "type" || key === "title" || key === "name" ||
               key === "placeholder" || key === "value" || key === "rows" || key === "role") {
        node.setAttribute(key, String(value));
      } else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Links only to web or mail addresses: a javascript: URL from a bot must never become clickable.
  function safeHref(url) {
    try {
      const parsed = new URL(url, "https://invalid.example/");
      if (["http:", "https:", "mailto:", "tel:"].includes(parsed.protocol) && /^(https?|mailto|tel):/i.test(url)) {
        return parsed.href;
      }
    } catch (err) { /* not a URL: shown as text */ }
    return null;
  }

  function link(href, label) {
    const safe = safeHref(href);
    if (!safe) return el("span", { class: "bad-link", title: href, text: label });
    return el("a", { href: safe, target: "_blank", rel: "noopener noreferrer", text: label });
  }

  // ---- Telegram: text + entities (UTF-16 offsets, which are JavaScript string indices) ----
  const TG_TAGS = {
    bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
    blockquote: "blockquote", expandable_blockquote: "blockquote", spoiler: "span",
  };

  function tgEntityNode(entity, text) {
    const slice = text.slice(entity.offset, entity.offset + entity.length);
    if (entity.type === "text_link") return link(entity.url || "", "");
    if (entity.type === "url") return link(/^[a-z]+:/i.test(slice) ? slice : "http://" + slice, "");
    if (entity.type === "email") return link("mailto:" + slice, "");
    if (entity.type === "phone_number") return link("tel:" + slice.replace(/\s/g, ""), "");
    const tag = TG_TAGS[entity.type];
    if (!tag) return el("span", { class: "entity-" + entity.type });
    return el(tag, { class: entity.type === "spoiler" ? "spoiler" : null });
  }

  function telegramText(text, entities) {
    const root = el("span", { class: "tg-text" });
    const list = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
    function fill(parent, start, end, items) {
      let pos = start;
      let i = 0;
      while (i < items.length) {
        const entity = items[i];
        const from = Math.max(entity.offset, pos);
        const to = Math.min(entity.offset + entity.length, end);
        if (from > pos) parent.append(text.slice(pos, from));
        const inner = [];
        let j = i + 1;
        while (j < items.length && items[j].offset < entity.offset + entity.length) {
          inner.push(items[j]);
          j += 1;
        }
        const node = tgEntityNode(entity, text);
        node.textContent = "";
        if (to > from) fill(node, from, to, inner);
        parent.append(node);
        pos = Math.max(pos, to);
        i = j;
      }
      if (pos < end) parent.append(text.slice(pos, end));
    }
    fill(root, 0, text.length, list);
    return root;
  }

  // ---- Slack mrkdwn ----
  function unescapeSlack(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  const INLINE = [
    { kind: "code", re: /`([^`\n]+)`/ },
    { kind: "angle", re: /<([^<>\n]+)>/ },
    { kind: "bold", re: /(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/ },
    { kind: "italic", re: /(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/ },
    { kind: "strike", re: /(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/ },
  ];

  function angleNode(inner, names) {
    const [target, label] = inner.split("|", 2);
    if (target.startsWith("@")) {
      const name = names[target.slice(1)] || label || target.slice(1);
      return el("span", { class: "mention", "data-user-id": target.slice(1), text: "@" + name });
    }
    if (target.startsWith("#")) {
      return el("span", { class: "mention", text: "#" + (label || target.slice(1)) });
    }
    if (target.startsWith("!")) {
      const [word, stamp] = target.slice(1).split("^");
      if (word === "date") {
        // <!date^1732464900^{date_short}|fallback>: Slack shows the date in the reader's zone; the page shows
        // the fallback the bot wrote, with the exact instant on hover.
        const when = new Date(Number(stamp) * 1000);
        return el("span", { class: "slack-date", title: isNaN(when) ? "" : when.toISOString(), text: unescapeSlack(label || stamp || "") });
      }
      if (word === "subteam") return el("span", { class: "mention", text: unescapeSlack(label || "@grupo") });
      return el("span", { class: "mention broadcast", text: "@" + (label || word) });
    }
    return link(unescapeSlack(target), unescapeSlack(label || target));
  }

  function mrkdwnInline(parent, text, names) {
    let rest = text;
    while (rest) {
      let best = null;
      for (const rule of INLINE) {
        const match = rule.re.exec(rest);
        if (match && (best === null || match.index < best.match.index)) best = { rule, match };
      }
      if (!best) {
        parent.append(unescapeSlack(rest));
        return;
      }
      const { rule, match } = best;
      if (match.index > 0) parent.append(unescapeSlack(rest.slice(0, match.index)));
      if (rule.kind === "code") parent.append(el("code", { text: unescapeSlack(match[1]) }));
      else if (rule.kind === "angle") parent.append(angleNode(match[1], names));
      else {
        const node = el({ bold: "b", italic: "i", strike: "s" }[rule.kind]);
        mrkdwnInline(node, match[1], names);
        parent.append(node);
      }
      rest = rest.slice(match.index + match[0].length);
    }
  }

  function mrkdwn(text, names) {
    const root = el("span", { class: "mrkdwn" });
    const pieces = String(text || "").split("```");
    pieces.forEach((piece, index) => {
      if (index % 2 === 1) {
        root.append(el("pre", { text: unescapeSlack(piece) }));
        return;
      }
      const lines = piece.split("\n");
      lines.forEach((line, n) => {
        if (/^(&gt;|>)\s?/.test(line)) {
          const quote = el("blockquote");
          mrkdwnInline(quote, line.replace(/^(&gt;|>)\s?/, ""), names);
          root.append(quote);
          return;
        }
        mrkdwnInline(root, line, names);
        if (n < lines.length - 1) root.append(el("br"));
      });
    });
    return root;
  }

  function textObject(obj, names) {
    if (!obj) return el("span");
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, names);
    return el("span", { class: "plain", text: obj.text || "" });
  }

  // ---- Block Kit ----
  // ctx: { names, onAction(element, blockId, option), inputs: true for modals }
  function element(elem, blockId, ctx) {
    const type = elem.type;
    if (type === "button") {
      const button = el("button", {
        type: "button",
        class: "bk-button" + (elem.style ? " " + elem.style : ""),
        "data-action-id": elem.action_id,
        "data-block-id": blockId,
        "data-value": elem.value,
        text: (elem.text && elem.text.text) || "",
      });
      if (elem.url) button.title = elem.url;
      button.addEventListener("click", () => ctx.onAction(elem, blockId, null, button));
      return button;
    }
    if (type === "static_select" || type === "overflow" || type === "external_select") {
      const select = el("select", { class: "bk-select", "data-action-id": elem.action_id, "data-block-id": blockId });
      const placeholder = (elem.placeholder && elem.placeholder.text) || (type === "overflow" ? "⋯" : "Elige…");
      select.append(el("option", { value: "", text: placeholder }));
      for (const option of options(elem)) {
        select.append(el("option", { value: option.value, text: option.text.text }));
      }
      select.addEventListener("change", () => {
        if (select.value) ctx.onAction(elem, blockId, select.value, select);
      });
      return select;
    }
    if (type === "image") return el("span", { class: "bk-image", text: "🖼 " + (elem.alt_text || "imagen") });
    if (type === "mrkdwn" || type === "plain_text") return textObject(elem, ctx.names);
    return el("span", { class: "bk-unknown", text: "[" + type + "]" });
  }

  function options(elem) {
    const found = (elem.options || []).slice();
    for (const group of elem.option_groups || []) found.push(...(group.options || []));
    return found;
  }

  function inputElement(block, ctx) {
    const elem = block.element || {};
    const blockId = block.block_id;
    const common = { "data-block-id": blockId, "data-action-id": elem.action_id, "data-type": elem.type };
    const initialOption = elem.initial_option ? elem.initial_option.value : "";
    if (elem.type === "plain_text_input" || elem.type === "email_text_input" || elem.type === "url_text_input") {
      const tag = elem.multiline ? "textarea" : "input";
      const input = el(tag, { ...common, class: "bk-input", rows: elem.multiline ? 4 : null,
        placeholder: elem.placeholder && elem.placeholder.text });
      if (tag === "input") input.type = elem.type === "email_text_input" ? "email" : "text";
      input.value = elem.initial_value || "";
      if (elem.max_length) input.maxLength = elem.max_length;
      return input;
    }
    if (elem.type === "number_input") {
      const input = el("input", { ...common, class: "bk-input", type: "number" });
      input.step = elem.is_decimal_allowed ? "any" : "1";
      if (elem.min_value !== undefined) input.min = elem.min_value;
      if (elem.max_value !== undefined) input.max = elem.max_value;
      input.value = elem.initial_value || "";
      return input;
    }
    if (elem.type === "static_select") {
      const select = el("select", { ...common, class: "bk-select" });
      select.append(el("option", { value: "", text: (elem.placeholder && elem.placeholder.text) || "Elige…" }));
      for (const option of options(elem)) {
        const node = el("option", { value: option.value, text: option.text.text });
        if (option.value === initialOption) node.selected = true;
        select.append(node);
      }
      return select;
    }
    if (elem.type === "users_select") {
      // The workspace's people, as Slack's user picker offers them (the value is the user id).
      const select = el("select", { ...common, class: "bk-select" });
      select.append(el("option", { value: "", text: (elem.placeholder && elem.placeholder.text) || "Elige a alguien…" }));
      for (const [id, name] of Object.entries(ctx.names || {})) {
        const node = el("option", { value: id, text: name });
        if (id === elem.initial_user) node.selected = true;
        select.append(node);
      }
      return select;
    }
    if (elem.type === "radio_buttons" || elem.type === "checkboxes") {
      const group = el("div", { ...common, class: "bk-choices" });
      const initial = new Set(elem.type === "checkboxes"
        ? (elem.initial_options || []).map((o) => o.value) : [initialOption]);
      for (const option of elem.options || []) {
        const box = el("input", { type: elem.type === "checkboxes" ? "checkbox" : "radio",
          name: blockId + "." + elem.action_id, value: option.value });
        box.checked = initial.has(option.value);
        group.append(el("label", { class: "bk-choice" }, box, " ", textObject(option.text, ctx.names)));
      }
      return group;
    }
    return el("span", { ...common, class: "bk-unknown", text: "[" + elem.type + " no soportado en la página]" });
  }

  // The value of one modal input, shaped as the Slack stand-in's submit expects (a string, option value or list).
  function inputValue(node) {
    const type = node.getAttribute("data-type");
    if (type === "checkboxes") {
      return [...node.querySelectorAll("input:checked")].map((box) => box.value);
    }
    if (type === "radio_buttons") {
      const chosen = node.querySelector("input:checked");
      return chosen ? chosen.value : null;
    }
    if (node.value === "") return null;
    return node.value;
  }

  function block(blockData, ctx) {
    const type = blockData.type;
    const blockId = blockData.block_id;
    const wrap = (cls, ...children) => el("div", { class: "bk " + cls, "data-block-type": type, "data-block-id": blockId }, ...children);
    if (type === "header") return wrap("bk-header", textObject(blockData.text, ctx.names));
    if (type === "divider") return wrap("bk-divider", el("hr"));
    if (type === "section") {
      const body = el("div", { class: "bk-section-body" });
      if (blockData.text) body.append(el("div", { class: "bk-section-text" }, textObject(blockData.text, ctx.names)));
      if (blockData.fields) {
        const fields = el("div", { class: "bk-fields" });
        for (const field of blockData.fields) fields.append(el("div", { class: "bk-field" }, textObject(field, ctx.names)));
        body.append(fields);
      }
      const node = wrap("bk-section", body);
      if (blockData.accessory) node.append(el("div", { class: "bk-accessory" }, element(blockData.accessory, blockId, ctx)));
      return node;
    }
    if (type === "context") {
      return wrap("bk-context", ...(blockData.elements || []).map((e) => element(e, blockId, ctx)));
    }
    if (type === "actions") {
      return wrap("bk-actions", ...(blockData.elements || []).map((e) => element(e, blockId, ctx)));
    }
    if (type === "image") {
      return wrap("bk-image-block", el("span", { text: "🖼 " + (blockData.alt_text || "imagen") }));
    }
    if (type === "input") {
      const label = el("label", { class: "bk-label" }, textObject(blockData.label, ctx.names));
      if (blockData.optional) label.append(el("span", { class: "optional", text: " (opcional)" }));
      const node = wrap("bk-input-block", label, inputElement(blockData, ctx));
      if (blockData.hint) node.append(el("div", { class: "bk-hint" }, textObject(blockData.hint, ctx.names)));
      const error = ctx.errors && ctx.errors[blockId];
      if (error) node.append(el("div", { class: "bk-error", text: error }));
      return node;
    }
    if (type === "rich_text") return wrap("bk-rich", richText(blockData, ctx));
    return wrap("bk-unknown", el("span", { text: "[bloque " + type + "]" }));
  }

  function richText(blockData, ctx) {
    const root = el("div");
    for (const section of blockData.elements || []) {
      const line = el(section.type === "rich_text_preformatted" ? "pre" : "div");
      for (const item of section.elements || []) {
        if (item.type === "text") {
          const style = item.style || {};
          let node = el("span", { text: item.text });
          if (style.code) node = el("code", {}, node);
          if (style.bold) node = el("b", {}, node);
          if (style.italic) node = el("i", {}, node);
          if (style.strike) node = el("s", {}, node);
          line.append(node);
        } else if (item.type === "link") line.append(link(item.url, item.text || item.url));
        else if (item.type === "user") line.append(el("span", { class: "mention", text: "@" + (ctx.names[item.user_id] || item.user_id) }));
        else if (item.type === "emoji") line.append(item.unicode ? String.fromCodePoint(...item.unicode.split("-").map((h) => parseInt(h, 16))) : ":" + item.name + ":");
        else if (item.text) line.append(item.text);
      }
      root.append(line);
    }
    return root;
  }

  function blocks(list, ctx) {
    const root = el("div", { class: "blocks" });
    for (const item of list || []) root.append(block(item, ctx));
    return root;
  }

  return { el, link, telegramText, mrkdwn, textObject, blocks, inputValue };
})();
