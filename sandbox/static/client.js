// The client pane of the sandbox page: a Telegram-like chat over the Telegram stand-in's control API.
"use strict";

function fmtTime(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString("es-MX", { hour: "2-digit", minute: "2-digit", timeZone: "America/Mexico_City" });
}

function fmtSize(bytes) {
  if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
  if (bytes >= 1024) return Math.round(bytes / 1024) + " KB";
  return bytes + " B";
}

function media(message) {
  if (message.photo) {
    const largest = message.photo[message.photo.length - 1] || {};
    return el("div", { class: "media photo", text: "🖼 Foto " + (largest.width || "?") + "×" + (largest.height || "?") });
  }
  if (message.document) {
    const doc = message.document;
    return el("div", { class: "media document", text: "📄 " + (doc.file_name || "archivo") + " · " + fmtSize(doc.file_size || 0) });
  }
  if (message.contact) {
    return el("div", { class: "media contact", text: "📇 " + message.contact.first_name + " · " + message.contact.phone_number });
  }
  if (message.sticker) return el("div", { class: "media sticker", text: message.sticker.emoji || "sticker" });
  if (message.voice) return el("div", { class: "media voice", text: "🎤 Nota de voz · " + message.voice.duration + " s" });
  return null;
}

function bubble(message) {
  const node = el("div", {
    class: "bubble " + message.from + (message.deleted ? " deleted" : ""),
    "data-message-id": message.message_id,
    "data-from": message.from,
  });
  if (message.deleted) {
    node.append(el("span", { class: "deleted-text", text: "mensaje eliminado" }));
    return node;
  }
  const attachment = media(message);
  if (attachment) node.append(attachment);
  if (message.text) node.append(R.telegramText(message.text, message.entities));
  node.append(el("span", { class: "meta", text: (message.edited ? "editado · " : "") + fmtTime(message.date) }));
  if (message.buttons && message.buttons.length) {
    const keyboard = el("div", { class: "inline-keyboard" });
    for (const row of message.buttons) {
      const line = el("div", { class: "inline-row" });
      for (const button of row) {
        if (button.callback_data !== undefined) {
          const b = el("button", { type: "button", class: "inline-btn", "data-callback": button.callback_data,
            "data-message-id": message.message_id, text: button.text });
          b.addEventListener("click", () => tap(message.message_id, button.callback_data));
          line.append(b);
        } else if (button.url) {
          line.append(R.link(button.url, button.text + " ↗"));
        } else {
          line.append(el("span", { class: "inline-btn disabled", text: button.text }));
        }
      }
      keyboard.append(line);
    }
    node.append(keyboard);
  }
  return node;
}

function renderChat() {
  const chat = page.chat;
  if (!chat) return;
  const box = $("tg-messages");
  box.replaceChildren(...chat.messages.map(bubble));
  if (!chat.messages.length) box.append(el("p", { class: "empty", text: "Sin mensajes. Escribe /start para empezar." }));
  box.scrollTop = box.scrollHeight; // like the app: the newest message in view

  const reply = $("tg-reply-keyboard");
  const keyboard = chat.reply_keyboard && chat.reply_keyboard.keyboard;
  reply.hidden = !keyboard;
  reply.replaceChildren();
  for (const row of keyboard || []) {
    const line = el("div", { class: "reply-row" });
    for (const raw of row) {
      const button = typeof raw === "string" ? { text: raw } : raw;
      const b = el("button", { type: "button", class: "reply-btn", "data-reply-text": button.text,
        "data-request-contact": button.request_contact ? "true" : null, text: (button.request_contact ? "📱 " : "") + button.text });
      b.addEventListener("click", () => (button.request_contact ? shareContact() : sendText(button.text)));
      line.append(b);
    }
    reply.append(line);
  }

  const commands = $("tg-commands");
  commands.replaceChildren(...(chat.commands || []).map((command) => {
    const b = el("button", { type: "button", "data-command": "/" + command.command },
      el("strong", { text: "/" + command.command }), " ", el("span", { text: command.description }));
    b.addEventListener("click", () => { commands.hidden = true; sendText("/" + command.command); });
    return el("li", {}, b);
  }));
  if (!chat.commands || !chat.commands.length) commands.append(el("li", { class: "empty", text: "El bot no ha publicado comandos." }));
  $("tg-chat-action").textContent = chat.chat_action === "typing" ? "escribiendo…" : (chat.chat_action ? chat.chat_action + "…" : "");
}

let chatTimer = null;
function refreshChat() {
  clearTimeout(chatTimer);
  chatTimer = setTimeout(loadChat, 40);
}

async function loadChat() {
  const data = await call("Telegram", "GET", tgPath("/users/" + page.tgUser + "/chat"));
  if (data) {
    page.chat = data.result;
    renderChat();
  }
}

async function userAction(action, body) {
  const data = await call("Telegram", "POST", tgPath("/users/" + page.tgUser + "/" + action), body);
  refreshChat();
  return data;
}

const sendText = (text) => userAction("send", { text });
const tap = (messageId, data) => userAction("tap", { message_id: messageId, callback_data: data });

async function shareContact() {
  const person = page.chat && page.chat.user;
  let body = { own: true };
  if (!person || !person.phone) {
    const phone = window.prompt("¿Qué número compartes? (la persona no tiene teléfono en el simulador)", "+52 222 555 0101");
    if (!phone) return;
    body = { own: true, phone_number: phone };
  }
  await userAction("contact", body);
}

async function uploadFile(file) {
  const form = new FormData();
  form.append("as", file.type.startsWith("image/") ? "photo" : "document");
  form.append("file", file, file.name);
  let data = null;
  try {
    const response = await fetch("/sandbox/page/telegram/" + page.tgUser + "/upload", { method: "POST", body: form });
    data = await response.json();
  } catch (err) {
    data = { ok: false, error: err.message };
  }
  if (!data || !data.ok) alertBox({ source: "Página", method: "subir archivo", error: (data && data.error) || "error" });
  refreshChat();
}

function toast(text, isAlert) {
  const box = $("tg-toast");
  box.textContent = text;
  box.classList.toggle("alert", Boolean(isAlert));
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, isAlert ? 6000 : 3000);
}

