// mesbackup service worker: remembers, per MES origin the user granted, the Authorization header the
// MES GUI itself sends (exactly what the manual procedure copies from the developer tools), and gives
// it only to this extension's own panel, only for that origin. Kept in chrome.storage.session:
// memory only, gone when the browser closes, not readable by content scripts or web pages.

const KEY = (origin) => `auth:${origin}`;

chrome.webRequest.onSendHeaders.addListener(
  (details) => {
    // Only requests the page makes (not our own panel's), to an origin we hold a permission for.
    if (details.initiator?.startsWith('chrome-extension://') || details.tabId < 0) return;
    const header = details.requestHeaders?.find((h) => h.name.toLowerCase() === 'authorization');
    if (!header?.value || !/^bearer\s+\S/i.test(header.value)) return;
    const origin = new URL(details.url).origin;
    chrome.storage.session.set({ [KEY(origin)]: { value: header.value, seenAt: Date.now() } });
  },
  { urls: ['<all_urls>'], types: ['xmlhttprequest'] },
  ['requestHeaders', 'extraHeaders'],
);

// The toolbar button opens the panel for the MES in the active tab.
chrome.action.onClicked.addListener(async (tab) => {
  let env = '';
  try {
    env = tab.url ? new URL(tab.url).origin : '';
  } catch {
    /* not a web page */
  }
  const url = chrome.runtime.getURL(`panel.html?env=${encodeURIComponent(env)}`);
  await chrome.tabs.create({ url, index: tab.index + 1, openerTabId: tab.id });
});

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  // Only our own extension pages may ask; never a content script or another extension.
  if (sender.id !== chrome.runtime.id || !sender.url?.startsWith(chrome.runtime.getURL(''))) return false;
  if (message?.type === 'token') {
    const origin = new URL(message.origin).origin;
    chrome.storage.session.get(KEY(origin)).then((r) => reply(r[KEY(origin)] ?? null));
    return true;
  }
  if (message?.type === 'forget') {
    chrome.storage.session.remove(KEY(new URL(message.origin).origin)).then(() => reply(true));
    return true;
  }
  return false;
});
