// Writes only what differs: on a page updated many times a second, an unchanged
// count or flag must not cost a style and layout pass.
export function setText(el, text) { if (el.textContent !== text) el.textContent = text; }
export function setHidden(el, yes) { if (el.hidden !== yes) el.hidden = yes; }
