// Rendering helpers. Every piece of data (message content, usernames, room
// names) goes into the page as a text node: nothing here parses HTML, so no
// message can inject markup or script. Never use innerHTML with data.

type Child = Node | string | number | null | undefined | false;

export interface Props {
  /** Space-separated CSS classes. */
  class?: string;
  /** Attributes (set with setAttribute; event-handler attributes are refused). */
  attrs?: Record<string, string | number | boolean | undefined>;
  /** Event listeners. */
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

/** Creates an element; string children become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (/^on/i.test(name)) throw new Error(`h(): refusing the event-handler attribute ${name}; use props.on`);
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [type, listener] of Object.entries(props.on ?? {})) element.addEventListener(type, listener as EventListener);
  append(element, ...children);
  return element;
}

/** Appends children; strings and numbers as text. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces an element's children. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A real <button type="button"> (keyboard-usable by default). */
export function button(label: string, onClick: (event: MouseEvent) => void, props: Props = {}): HTMLButtonElement {
  return h('button', { ...props, attrs: { type: 'button', ...props.attrs }, on: { ...props.on, click: onClick } }, label);
}

/** A <form> handled in script: submitting it (Enter, or its submit button) calls onSubmit and never navigates. */
export function form(onSubmit: () => void, props: Props = {}, ...children: Child[]): HTMLFormElement {
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return h('form', { ...props, on: { ...props.on, submit } }, ...children);
}

/** A labelled form field: <label>text <input></label>. */
export function field(label: string, control: HTMLElement, props: Props = {}): HTMLLabelElement {
  return h('label', { class: `field ${props.class ?? ''}`.trim() }, h('span', { class: 'field-label' }, label), control);
}
