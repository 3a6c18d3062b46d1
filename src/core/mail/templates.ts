// Mail templates: a subject, a plain-text body and an HTML body per kind of mail. An operator overrides any
// of them with files in GATEHOUSE_MAIL_TEMPLATES: `<name>.subject.txt`, `<name>.txt`, `<name>.html` (read
// once at start). `{{var}}` is replaced by the value (HTML-escaped in the HTML body); unknown names are left empty.
import fs from 'node:fs';
import path from 'node:path';

export type TemplateName = 'invite' | 'password_reset' | 'verify_email' | 'email_change_notice';

export interface Template {
  subject: string;
  text: string;
  html: string;
}

const BUILT_IN: Record<TemplateName, Template> = {
  invite: {
    subject: 'You have been invited to {{product}}',
    text: 'Hello {{name}},\n\n{{inviter}} created an account for you on {{product}}.\nSet your password here (the link works until {{expires_at}}):\n\n{{link}}\n\nIf you did not expect this, ignore this mail.\n',
    html: '<p>Hello {{name}},</p><p>{{inviter}} created an account for you on {{product}}.</p><p><a href="{{link}}">Set your password</a> (the link works until {{expires_at}}).</p><p>If you did not expect this, ignore this mail.</p>',
  },
  password_reset: {
    subject: 'Reset your {{product}} password',
    text: 'Hello {{name}},\n\nSomeone asked to reset the password of your {{product}} account.\nChoose a new password here (the link works until {{expires_at}}):\n\n{{link}}\n\nIf it was not you, ignore this mail: your password stays as it is.\n',
    html: '<p>Hello {{name}},</p><p>Someone asked to reset the password of your {{product}} account.</p><p><a href="{{link}}">Choose a new password</a> (the link works until {{expires_at}}).</p><p>If it was not you, ignore this mail: your password stays as it is.</p>',
  },
  verify_email: {
    subject: 'Confirm your email address for {{product}}',
    text: 'Hello {{name}},\n\nConfirm that {{email}} is your address (the link works until {{expires_at}}):\n\n{{link}}\n',
    html: '<p>Hello {{name}},</p><p>Confirm that {{email}} is your address: <a href="{{link}}">confirm</a> (the link works until {{expires_at}}).</p>',
  },
  email_change_notice: {
    subject: 'The email address of your {{product}} account changed',
    text: 'Hello {{name}},\n\nThe email address of your {{product}} account was changed from {{old_email}} to {{new_email}}.\nIf you did not do this, contact your administrator at once.\n',
    html: '<p>Hello {{name}},</p><p>The email address of your {{product}} account was changed from {{old_email}} to {{new_email}}.</p><p>If you did not do this, contact your administrator at once.</p>',
  },
};

export const TEMPLATE_NAMES = Object.keys(BUILT_IN) as TemplateName[];

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fill(template: string, vars: Record<string, string>, escape: (s: string) => string): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => escape(vars[name] ?? ''));
}

export class Templates {
  private readonly templates: Record<TemplateName, Template>;
  /** The files that replaced built-in parts (for the start-up log). */
  readonly overridden: string[] = [];

  constructor(dir: string | undefined) {
    this.templates = structuredClone(BUILT_IN);
    if (!dir) return;
    for (const name of TEMPLATE_NAMES) {
      for (const [part, file] of [['subject', `${name}.subject.txt`], ['text', `${name}.txt`], ['html', `${name}.html`]] as const) {
        const p = path.join(dir, file);
        if (fs.existsSync(p)) {
          this.templates[name][part] = fs.readFileSync(p, 'utf8');
          this.overridden.push(file);
        }
      }
    }
  }

  render(name: TemplateName, vars: Record<string, string>): Template {
    const t = this.templates[name];
    return {
      subject: fill(t.subject, vars, (s) => s).replace(/[\r\n]+/g, ' ').trim(),
      text: fill(t.text, vars, (s) => s),
      html: fill(t.html, vars, escapeHtml),
    };
  }
}
