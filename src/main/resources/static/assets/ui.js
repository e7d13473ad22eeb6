// What both pages share: the API key field and the problem box.
import {apiKey, onUnauthorized, setApiKey} from './api.js';

/**
 * The API key field: hidden until the service answers 401 (it has API keys) or a key is kept; saving keeps the key in
 * this tab's sessionStorage and calls onChange.
 */
export function keyField(form, onChange) {
  const input = form.querySelector('input');
  const forget = form.querySelector('[data-action="forget"]');
  input.value = apiKey();
  form.hidden = !apiKey();
  onUnauthorized(() => {
    form.hidden = false;
    form.classList.add('needed');
    input.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setApiKey(input.value.trim());
    form.classList.remove('needed');
    onChange();
  });
  forget.addEventListener('click', () => {
    input.value = '';
    setApiKey('');
    onChange();
  });
}

/** The problem box (role="alert"): shows a problem's status, title and detail, and what the page was doing. */
export class ProblemBox {
  constructor(element) {
    this.element = element;
    element.hidden = true;
  }

  show(problem, doing) {
    const box = this.element;
    box.replaceChildren();
    const title = document.createElement('strong');
    title.className = 'title';
    title.textContent = (problem.status ? `${problem.status} ` : '') + (problem.title ?? problem.name);
    const detail = document.createElement('p');
    detail.className = 'detail';
    detail.textContent = problem.detail ?? problem.message;
    const context = document.createElement('p');
    context.className = 'context';
    context.textContent = doing + (problem.type ? ` (${problem.type})` : '');
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.textContent = 'Dismiss';
    close.addEventListener('click', () => this.clear());
    box.append(title, detail, context, close);
    box.dataset.status = String(problem.status ?? '');
    box.dataset.type = problem.type ?? '';
    box.hidden = false;
  }

  clear() {
    this.element.hidden = true;
    this.element.replaceChildren();
    delete this.element.dataset.status;
    delete this.element.dataset.type;
  }
}

/** A number in few characters: 6 significant digits, exponent notation when small or large. */
export function formatNumber(value) {
  if (value === null || value === undefined) {
    return '–';
  }
  if (value === 0 || !Number.isFinite(value)) {
    return String(value);
  }
  const magnitude = Math.abs(value);
  return (magnitude >= 1e-3 && magnitude < 1e5) ? String(Number(value.toPrecision(6))) : value.toExponential(4);
}
