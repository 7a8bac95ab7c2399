import { useId } from 'react';
import { isLocale, LOCALE_NAMES, LOCALES, setLocale, useI18n } from '../i18n';

/** The page's language, each offered by its own name; the choice is remembered. */
export function LanguageSwitch() {
  const { t, locale } = useI18n();
  const id = useId();
  return (
    <span className="lang">
      <label htmlFor={id} className="sr-only">
        {t('lang.label')}
      </label>
      <select id={id} value={locale} onChange={(e) => isLocale(e.currentTarget.value) && setLocale(e.currentTarget.value)} data-testid="lang">
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {LOCALE_NAMES[l]}
          </option>
        ))}
      </select>
    </span>
  );
}
