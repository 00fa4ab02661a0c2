import { InputError } from '../types';
import { escapeHtml } from './escape';

/**
 * Everything a reviewer reads — review pages, confirmation and error pages, the review e-mail and the chat
 * message — in five languages. One `Messages` interface and one complete object per language: a missing or extra
 * key is a compile error. Texts are static; `{name}` placeholders are filled by `formatText` (plain text) or
 * `formatHtml` (the static text escaped, the values inserted as already-safe HTML).
 *
 * French follows French typography: a no-break space (U+00A0) before a colon and inside « », a narrow
 * no-break space (U+202F) before ; ! ?, and the typographic apostrophe ’.
 */

export type ReviewLanguage = 'en' | 'fr' | 'de' | 'es' | 'it';

export const REVIEW_LANGUAGES: readonly ReviewLanguage[] = ['en', 'fr', 'de', 'es', 'it'];

/** Each language's name in that language, as a reviewer or a workflow author would look for it. */
export const REVIEW_LANGUAGE_NAMES: Readonly<Record<ReviewLanguage, string>> = {
	en: 'English',
	fr: 'Français',
	de: 'Deutsch',
	es: 'Español',
	it: 'Italiano',
};

/** BCP 47 tags for Intl: the regional conventions of our users (British English, France, Germany, Spain, Italy). */
export const REVIEW_LANGUAGE_TAGS: Readonly<Record<ReviewLanguage, string>> = {
	en: 'en-GB',
	fr: 'fr-FR',
	de: 'de-DE',
	es: 'es-ES',
	it: 'it-IT',
};

/** Language of every text a reviewer reads, and the IANA time zone its dates are shown in. */
export interface ReviewLocale {
	language: ReviewLanguage;
	timeZone: string;
}

export const DEFAULT_REVIEW_LOCALE: Readonly<ReviewLocale> = { language: 'en', timeZone: 'UTC' };

/** Texts shown with a count; `one` is chosen where the language's plural rules say so (French: 0 and 1). */
export interface PluralText {
	one: string;
	other: string;
}

/** A plain error page: what happened, then what to do. */
export interface ErrorText {
	heading: string;
	advice: string;
}

export type ErrorPageKey =
	| 'malformed'
	| 'tampered'
	| 'expired'
	| 'notReviewer'
	| 'methodNotAllowed'
	| 'foreignForm'
	| 'noDecision'
	| 'commentTooLong'
	| 'draftMissing'
	| 'textTooLong'
	| 'serverError';

export interface Messages {
	/** Joins a date and a time on the pages: `{date}`, `{time}`. */
	dateTime: string;
	/** A context field in the plain-text e-mail: `{label}`, `{value}`. */
	labelValue: string;
	review: {
		/** `{date}` */
		requestedOn: string;
		context: string;
		draft: string;
		draftEditable: string;
		comment: string;
		approve: string;
		reject: string;
		/** `{reviewer}`, `{date}` */
		reviewingAs: string;
	};
	decision: {
		approved: string;
		rejected: string;
		/** `{reviewer}`, `{date}` */
		approvedBy: string;
		/** `{reviewer}`, `{date}`: approved, and the approved text differs from the draft. */
		approvedWithEditsBy: string;
		/** `{reviewer}`, `{date}` */
		rejectedBy: string;
	};
	confirmation: {
		/** `{count}` reviewers still to approve under "all must approve". */
		waitingFor: PluralText;
		done: string;
		yourComment: string;
	};
	alreadyDecided: {
		headingOwn: string;
		headingSettled: string;
		othersPending: string;
		nothingMore: string;
	};
	/** Late visits, once n8n no longer waits, or when nothing can be recorded. */
	closed: {
		timedOutHeading: string;
		/** `{date}` the review closed. */
		timedOut: string;
		closedHeading: string;
		closed: string;
		beingDecidedHeading: string;
		beingDecided: string;
		unavailableHeading: string;
		unavailable: string;
	};
	/** `commentTooLong` and `textTooLong` advice: `{max}` characters. */
	errors: Record<ErrorPageKey, ErrorText>;
	email: {
		greeting: string;
		/** `{name}` */
		greetingNamed: string;
		defaultIntro: string;
		/** Heading above the draft (HTML part). */
		draft: string;
		/** Line above the draft (plain-text part). */
		draftText: string;
		reviewButton: string;
		howTo: string;
		/** `{date}` */
		expiry: string;
		/** `{url}` */
		fallback: string;
		/** `{url}` (plain-text part). */
		reviewHere: string;
	};
	chat: {
		/** `{name}` */
		reviewAs: string;
		/** `{date}` */
		linksExpire: string;
	};
	/** Header names of an e-mail shown for review as text (Send Email After Review), as mail programs name them. */
	emailHeaders: {
		to: string;
		subject: string;
	};
}

const en: Messages = {
	dateTime: '{date}, {time}',
	labelValue: '{label}: {value}',
	review: {
		requestedOn: 'Requested on {date}',
		context: 'Context',
		draft: 'Draft',
		draftEditable: 'Draft — you can edit it before approving',
		comment: 'Comment (optional)',
		approve: 'Approve',
		reject: 'Reject',
		reviewingAs: 'Reviewing as {reviewer}. This link expires on {date}.',
	},
	decision: {
		approved: 'Approved',
		rejected: 'Rejected',
		approvedBy: 'Approved by {reviewer} on {date}.',
		approvedWithEditsBy: 'Approved with edits by {reviewer} on {date}.',
		rejectedBy: 'Rejected by {reviewer} on {date}.',
	},
	confirmation: {
		waitingFor: {
			one: 'Your decision is recorded. {count} more reviewer must still approve.',
			other: 'Your decision is recorded. {count} more reviewers must still approve.',
		},
		done: 'Your decision is recorded and the workflow continues. You can close this page.',
		yourComment: 'Your comment',
	},
	alreadyDecided: {
		headingOwn: 'You have already decided',
		headingSettled: 'This review is already decided',
		othersPending: 'Other reviewers still have to decide.',
		nothingMore: 'Nothing more to do here; you can close this page.',
	},
	closed: {
		timedOutHeading: 'This review closed without a decision',
		timedOut:
			'This review closed on {date} without a decision. The workflow continued without approval; ask the sender for a new request if needed.',
		closedHeading: 'This review is closed',
		closed: 'The workflow no longer waits for a decision; nothing was recorded from this visit.',
		beingDecidedHeading: 'A decision is being recorded',
		beingDecided: 'This review is being decided right now. Reload this page in a few seconds to see the outcome.',
		unavailableHeading: 'Decisions cannot be recorded right now',
		unavailable: 'Nothing was recorded and the review is still open. Try the same link again in a few minutes.',
	},
	errors: {
		malformed: {
			heading: 'This link is incomplete',
			advice: 'Open the review link from your email again; copy the whole link if you paste it.',
		},
		tampered: {
			heading: 'This link is not valid',
			advice: 'The link was changed or does not belong to this review. Open the link from your email.',
		},
		expired: {
			heading: 'This review link has expired',
			advice: 'The time to review has run out. Ask the sender for a new review request.',
		},
		notReviewer: { heading: 'You are not a reviewer of this request', advice: 'Ask the sender to add you as a reviewer.' },
		methodNotAllowed: { heading: 'Method not allowed', advice: 'Open the review link in a browser.' },
		foreignForm: {
			heading: 'This form was not sent from your review page',
			advice: 'Open the review link from your email and decide there.',
		},
		noDecision: { heading: 'No decision received', advice: 'Use the Approve or Reject button on the review page.' },
		commentTooLong: { heading: 'Comment too long', advice: 'Shorten the comment to {max} characters and send again.' },
		draftMissing: { heading: 'The draft is missing', advice: 'Use the form on the review page.' },
		textTooLong: { heading: 'Text too long', advice: 'Shorten the text to {max} characters and send again.' },
		serverError: { heading: 'Something went wrong', advice: 'Your decision was not recorded. Try again in a minute.' },
	},
	email: {
		greeting: 'Hello,',
		greetingNamed: 'Hello {name},',
		defaultIntro: 'A draft is waiting for your review.',
		draft: 'Draft',
		draftText: 'Draft:',
		reviewButton: 'Review',
		howTo: 'You approve, edit or reject on the review page.',
		expiry: 'This personal link expires on {date}; please do not forward it.',
		fallback: 'If the button does not work, open: {url}',
		reviewHere: 'Review it (approve, edit or reject) here: {url}',
	},
	chat: {
		reviewAs: 'Review as {name}',
		linksExpire: 'Links expire on {date}.',
	},
	emailHeaders: { to: 'To', subject: 'Subject' },
};

const fr: Messages = {
	dateTime: '{date} à {time}',
	labelValue: '{label}\u00a0: {value}',
	review: {
		requestedOn: 'Demande envoyée le {date}',
		context: 'Contexte',
		draft: 'Brouillon',
		draftEditable: 'Brouillon — vous pouvez le modifier avant de l’approuver',
		comment: 'Commentaire (facultatif)',
		approve: 'Approuver',
		reject: 'Refuser',
		reviewingAs: 'Vous relisez en tant que {reviewer}. Ce lien expire le {date}.',
	},
	decision: {
		approved: 'Approuvé',
		rejected: 'Refusé',
		approvedBy: 'Approuvé par {reviewer} le {date}.',
		approvedWithEditsBy: 'Approuvé avec modifications par {reviewer} le {date}.',
		rejectedBy: 'Refusé par {reviewer} le {date}.',
	},
	confirmation: {
		waitingFor: {
			one: 'Votre décision a bien été enregistrée. {count}\u00a0autre relecteur doit encore donner son accord.',
			other: 'Votre décision a bien été enregistrée. {count}\u00a0autres relecteurs doivent encore donner leur accord.',
		},
		done: 'Votre décision a bien été enregistrée et le workflow se poursuit. Vous pouvez fermer cette page.',
		yourComment: 'Votre commentaire',
	},
	alreadyDecided: {
		headingOwn: 'Votre décision est déjà enregistrée',
		headingSettled: 'Une décision a déjà été prise',
		othersPending: 'D’autres relecteurs doivent encore se prononcer.',
		nothingMore: 'Vous n’avez plus rien à faire ici\u202f; vous pouvez fermer cette page.',
	},
	closed: {
		timedOutHeading: 'Relecture terminée sans décision',
		timedOut:
			'La relecture a pris fin le {date} sans qu’une décision ait été prise. Le workflow s’est poursuivi sans approbation\u202f; si besoin, demandez à l’expéditeur de vous envoyer une nouvelle demande.',
		closedHeading: 'Cette relecture est terminée',
		closed: 'Le workflow n’attend plus de décision\u202f; rien n’a été enregistré lors de cette visite.',
		beingDecidedHeading: 'Décision en cours d’enregistrement',
		beingDecided: 'Une décision est en train d’être enregistrée pour cette relecture. Rechargez la page dans quelques secondes pour voir le résultat.',
		unavailableHeading: 'Impossible d’enregistrer une décision pour le moment',
		unavailable: 'Rien n’a été enregistré et la relecture reste ouverte. Réessayez avec le même lien dans quelques minutes.',
	},
	errors: {
		malformed: {
			heading: 'Ce lien est incomplet',
			advice: 'Rouvrez le lien reçu par e-mail\u202f; si vous le copiez-collez, veillez à le copier en entier.',
		},
		tampered: {
			heading: 'Ce lien n’est pas valide',
			advice: 'Le lien a été modifié ou ne correspond pas à cette relecture. Ouvrez le lien reçu par e-mail.',
		},
		expired: {
			heading: 'Ce lien a expiré',
			advice: 'Le délai de relecture est écoulé. Demandez à l’expéditeur de vous envoyer une nouvelle demande.',
		},
		notReviewer: {
			heading: 'Vous ne faites pas partie des relecteurs de cette demande',
			advice: 'Demandez à l’expéditeur de vous ajouter comme relecteur.',
		},
		methodNotAllowed: { heading: 'Requête non prise en charge', advice: 'Ouvrez le lien dans votre navigateur web.' },
		foreignForm: {
			heading: 'Ce formulaire ne vient pas de votre page de relecture',
			advice: 'Ouvrez le lien reçu par e-mail et prenez votre décision sur cette page.',
		},
		noDecision: {
			heading: 'Aucune décision reçue',
			advice: 'Utilisez le bouton «\u00a0Approuver\u00a0» ou «\u00a0Refuser\u00a0» de la page de relecture.',
		},
		commentTooLong: {
			heading: 'Commentaire trop long',
			advice: 'Limitez votre commentaire à {max}\u00a0caractères, puis renvoyez-le.',
		},
		draftMissing: { heading: 'Le brouillon n’a pas été reçu', advice: 'Utilisez le formulaire de la page de relecture.' },
		textTooLong: {
			heading: 'Texte trop long',
			advice: 'Limitez le texte à {max}\u00a0caractères, puis renvoyez-le.',
		},
		serverError: {
			heading: 'Une erreur est survenue',
			advice: 'Votre décision n’a pas été enregistrée. Réessayez dans une minute.',
		},
	},
	email: {
		greeting: 'Bonjour,',
		greetingNamed: 'Bonjour {name},',
		defaultIntro: 'Un brouillon attend votre relecture.',
		draft: 'Brouillon',
		draftText: 'Brouillon\u00a0:',
		reviewButton: 'Relire le brouillon',
		howTo: 'Sur la page de relecture, vous pouvez l’approuver, le modifier ou le refuser.',
		expiry: 'Ce lien personnel expire le {date}\u202f; merci de ne pas le transférer.',
		fallback: 'Si le bouton ne fonctionne pas, ouvrez ce lien\u00a0: {url}',
		reviewHere: 'Pour approuver, modifier ou refuser ce brouillon\u00a0: {url}',
	},
	chat: {
		reviewAs: 'Relire en tant que {name}',
		linksExpire: 'Les liens expirent le {date}.',
	},
	emailHeaders: { to: 'À', subject: 'Objet' },
};

const de: Messages = {
	dateTime: '{date} um {time} Uhr',
	labelValue: '{label}: {value}',
	review: {
		requestedOn: 'Angefragt am {date}',
		context: 'Kontext',
		draft: 'Entwurf',
		draftEditable: 'Entwurf – Sie können ihn vor der Freigabe bearbeiten',
		comment: 'Kommentar (optional)',
		approve: 'Freigeben',
		reject: 'Ablehnen',
		reviewingAs: 'Sie prüfen als {reviewer}. Dieser Link läuft am {date} ab.',
	},
	decision: {
		approved: 'Freigegeben',
		rejected: 'Abgelehnt',
		approvedBy: 'Freigegeben von {reviewer} am {date}.',
		approvedWithEditsBy: 'Mit Änderungen freigegeben von {reviewer} am {date}.',
		rejectedBy: 'Abgelehnt von {reviewer} am {date}.',
	},
	confirmation: {
		waitingFor: {
			one: 'Ihre Entscheidung ist gespeichert. {count} weitere Person muss noch freigeben.',
			other: 'Ihre Entscheidung ist gespeichert. {count} weitere Personen müssen noch freigeben.',
		},
		done: 'Ihre Entscheidung ist gespeichert und der Workflow läuft weiter. Sie können diese Seite schließen.',
		yourComment: 'Ihr Kommentar',
	},
	alreadyDecided: {
		headingOwn: 'Sie haben bereits entschieden',
		headingSettled: 'Hierüber wurde bereits entschieden',
		othersPending: 'Andere Prüfer müssen noch entscheiden.',
		nothingMore: 'Hier ist nichts mehr zu tun; Sie können diese Seite schließen.',
	},
	closed: {
		timedOutHeading: 'Prüfung ohne Entscheidung beendet',
		timedOut:
			'Diese Prüfung wurde am {date} ohne Entscheidung beendet. Der Workflow lief ohne Freigabe weiter; bitten Sie bei Bedarf den Absender um eine neue Anfrage.',
		closedHeading: 'Diese Prüfung ist abgeschlossen',
		closed: 'Der Workflow wartet nicht mehr auf eine Entscheidung; von diesem Besuch wurde nichts gespeichert.',
		beingDecidedHeading: 'Die Entscheidung wird gerade gespeichert',
		beingDecided: 'Über diese Prüfung wird gerade entschieden. Laden Sie die Seite in ein paar Sekunden neu, um das Ergebnis zu sehen.',
		unavailableHeading: 'Entscheidungen können gerade nicht gespeichert werden',
		unavailable: 'Es wurde nichts gespeichert, und die Prüfung bleibt offen. Versuchen Sie es in ein paar Minuten mit demselben Link erneut.',
	},
	errors: {
		malformed: {
			heading: 'Dieser Link ist unvollständig',
			advice: 'Öffnen Sie den Link aus Ihrer E-Mail erneut; wenn Sie ihn einfügen, kopieren Sie ihn vollständig.',
		},
		tampered: {
			heading: 'Dieser Link ist ungültig',
			advice: 'Der Link wurde verändert oder gehört nicht zu dieser Prüfung. Öffnen Sie den Link aus Ihrer E-Mail.',
		},
		expired: {
			heading: 'Dieser Link ist abgelaufen',
			advice: 'Die Prüffrist ist vorbei. Bitten Sie den Absender um eine neue Anfrage.',
		},
		notReviewer: {
			heading: 'Sie sind für diese Anfrage nicht als Prüfer eingetragen',
			advice: 'Bitten Sie den Absender, Sie als Prüfer hinzuzufügen.',
		},
		methodNotAllowed: { heading: 'Methode nicht erlaubt', advice: 'Öffnen Sie den Link in einem Browser.' },
		foreignForm: {
			heading: 'Dieses Formular stammt nicht von Ihrer Prüfseite',
			advice: 'Öffnen Sie den Link aus Ihrer E-Mail und entscheiden Sie dort.',
		},
		noDecision: {
			heading: 'Keine Entscheidung erhalten',
			advice: 'Nutzen Sie die Schaltfläche „Freigeben“ oder „Ablehnen“ auf der Prüfseite.',
		},
		commentTooLong: {
			heading: 'Kommentar zu lang',
			advice: 'Kürzen Sie den Kommentar auf höchstens {max} Zeichen und senden Sie ihn erneut.',
		},
		draftMissing: { heading: 'Der Entwurf fehlt', advice: 'Nutzen Sie das Formular auf der Prüfseite.' },
		textTooLong: {
			heading: 'Text zu lang',
			advice: 'Kürzen Sie den Text auf höchstens {max} Zeichen und senden Sie ihn erneut.',
		},
		serverError: {
			heading: 'Etwas ist schiefgelaufen',
			advice: 'Ihre Entscheidung wurde nicht gespeichert. Versuchen Sie es in einer Minute erneut.',
		},
	},
	email: {
		greeting: 'Guten Tag,',
		greetingNamed: 'Guten Tag {name},',
		defaultIntro: 'Ein Entwurf wartet auf Ihre Prüfung.',
		draft: 'Entwurf',
		draftText: 'Entwurf:',
		reviewButton: 'Jetzt prüfen',
		howTo: 'Auf der Prüfseite können Sie den Entwurf freigeben, bearbeiten oder ablehnen.',
		expiry: 'Dieser persönliche Link läuft am {date} ab; bitte leiten Sie ihn nicht weiter.',
		fallback: 'Falls die Schaltfläche nicht funktioniert, öffnen Sie: {url}',
		reviewHere: 'Hier prüfen (freigeben, bearbeiten oder ablehnen): {url}',
	},
	chat: {
		reviewAs: 'Prüfen als {name}',
		linksExpire: 'Die Links laufen am {date} ab.',
	},
	emailHeaders: { to: 'An', subject: 'Betreff' },
};

const es: Messages = {
	dateTime: '{date} a las {time}',
	labelValue: '{label}: {value}',
	review: {
		requestedOn: 'Solicitado el {date}',
		context: 'Contexto',
		draft: 'Borrador',
		draftEditable: 'Borrador: puedes editarlo antes de aprobarlo',
		comment: 'Comentario (opcional)',
		approve: 'Aprobar',
		reject: 'Rechazar',
		reviewingAs: 'Estás revisando como {reviewer}. Este enlace caduca el {date}.',
	},
	decision: {
		approved: 'Aprobado',
		rejected: 'Rechazado',
		approvedBy: 'Aprobado por {reviewer} el {date}.',
		approvedWithEditsBy: 'Aprobado con cambios por {reviewer} el {date}.',
		rejectedBy: 'Rechazado por {reviewer} el {date}.',
	},
	confirmation: {
		waitingFor: {
			one: 'Tu decisión se ha registrado. Falta la aprobación de {count} revisor más.',
			other: 'Tu decisión se ha registrado. Falta la aprobación de {count} revisores más.',
		},
		done: 'Tu decisión se ha registrado y el flujo de trabajo continúa. Ya puedes cerrar esta página.',
		yourComment: 'Tu comentario',
	},
	alreadyDecided: {
		headingOwn: 'Ya has tomado tu decisión',
		headingSettled: 'Ya se ha tomado una decisión',
		othersPending: 'Otros revisores aún tienen que decidir.',
		nothingMore: 'No tienes nada más que hacer aquí; ya puedes cerrar esta página.',
	},
	closed: {
		timedOutHeading: 'Revisión cerrada sin decisión',
		timedOut:
			'Esta revisión se cerró el {date} sin ninguna decisión. El flujo de trabajo continuó sin aprobación; si hace falta, pide al remitente una nueva solicitud.',
		closedHeading: 'Esta revisión está cerrada',
		closed: 'El flujo de trabajo ya no espera ninguna decisión; no se ha registrado nada de esta visita.',
		beingDecidedHeading: 'Se está registrando una decisión',
		beingDecided: 'Ahora mismo se está decidiendo esta revisión. Vuelve a cargar la página en unos segundos para ver el resultado.',
		unavailableHeading: 'Ahora mismo no se pueden registrar decisiones',
		unavailable: 'No se ha registrado nada y la revisión sigue abierta. Vuelve a intentarlo con el mismo enlace dentro de unos minutos.',
	},
	errors: {
		malformed: {
			heading: 'Este enlace está incompleto',
			advice: 'Vuelve a abrir el enlace desde tu correo; si lo pegas, cópialo entero.',
		},
		tampered: {
			heading: 'Este enlace no es válido',
			advice: 'El enlace se ha modificado o no corresponde a esta revisión. Ábrelo desde tu correo.',
		},
		expired: {
			heading: 'Este enlace ha caducado',
			advice: 'El plazo de revisión ha terminado. Pide al remitente una nueva solicitud.',
		},
		notReviewer: { heading: 'No figuras como revisor de esta solicitud', advice: 'Pide al remitente que te añada como revisor.' },
		methodNotAllowed: { heading: 'Método no permitido', advice: 'Abre el enlace en un navegador.' },
		foreignForm: {
			heading: 'Este formulario no se ha enviado desde tu página de revisión',
			advice: 'Abre el enlace de tu correo y decide allí.',
		},
		noDecision: {
			heading: 'No se ha recibido ninguna decisión',
			advice: 'Usa el botón «Aprobar» o «Rechazar» de la página de revisión.',
		},
		commentTooLong: {
			heading: 'Comentario demasiado largo',
			advice: 'Acorta el comentario a {max} caracteres como máximo y vuelve a enviarlo.',
		},
		draftMissing: { heading: 'Falta el borrador', advice: 'Usa el formulario de la página de revisión.' },
		textTooLong: {
			heading: 'Texto demasiado largo',
			advice: 'Acorta el texto a {max} caracteres como máximo y vuelve a enviarlo.',
		},
		serverError: {
			heading: 'Algo ha salido mal',
			advice: 'Tu decisión no se ha registrado. Vuelve a intentarlo dentro de un minuto.',
		},
	},
	email: {
		greeting: 'Hola:',
		greetingNamed: 'Hola, {name}:',
		defaultIntro: 'Tienes un borrador pendiente de revisión.',
		draft: 'Borrador',
		draftText: 'Borrador:',
		reviewButton: 'Revisar',
		howTo: 'En la página de revisión puedes aprobarlo, editarlo o rechazarlo.',
		expiry: 'Este enlace personal caduca el {date}; no lo reenvíes.',
		fallback: 'Si el botón no funciona, abre: {url}',
		reviewHere: 'Revísalo (aprobar, editar o rechazar) aquí: {url}',
	},
	chat: {
		reviewAs: 'Revisar como {name}',
		linksExpire: 'Los enlaces caducan el {date}.',
	},
	emailHeaders: { to: 'Para', subject: 'Asunto' },
};

const it: Messages = {
	dateTime: '{date} alle {time}',
	labelValue: '{label}: {value}',
	review: {
		requestedOn: 'Data della richiesta: {date}',
		context: 'Contesto',
		draft: 'Bozza',
		draftEditable: 'Bozza: puoi modificarla prima di approvarla',
		comment: 'Commento (facoltativo)',
		approve: 'Approva',
		reject: 'Rifiuta',
		reviewingAs: 'Stai rispondendo come {reviewer}. Il link scade il giorno {date}.',
	},
	decision: {
		approved: 'Approvato',
		rejected: 'Rifiutato',
		approvedBy: 'Approvato da {reviewer} il giorno {date}.',
		approvedWithEditsBy: 'Approvato con modifiche da {reviewer} il giorno {date}.',
		rejectedBy: 'Rifiutato da {reviewer} il giorno {date}.',
	},
	confirmation: {
		waitingFor: {
			one: 'La tua decisione è stata registrata. Manca ancora l’approvazione di {count} revisore.',
			other: 'La tua decisione è stata registrata. Manca ancora l’approvazione di {count} revisori.',
		},
		done: 'La tua decisione è stata registrata e il workflow prosegue. Puoi chiudere questa pagina.',
		yourComment: 'Il tuo commento',
	},
	alreadyDecided: {
		headingOwn: 'Hai già deciso',
		headingSettled: 'È già stata presa una decisione',
		othersPending: 'Altri revisori devono ancora decidere.',
		nothingMore: 'Non devi fare altro; puoi chiudere questa pagina.',
	},
	closed: {
		timedOutHeading: 'Revisione chiusa senza decisione',
		timedOut:
			'Questa revisione si è chiusa il giorno {date} senza una decisione. Il workflow è proseguito senza approvazione; se serve, chiedi al mittente una nuova richiesta.',
		closedHeading: 'Questa revisione è chiusa',
		closed: 'Il workflow non attende più una decisione; da questa visita non è stato registrato nulla.',
		beingDecidedHeading: 'Decisione in corso di registrazione',
		beingDecided: 'Su questa revisione si sta decidendo proprio ora. Ricarica la pagina tra qualche secondo per vedere l’esito.',
		unavailableHeading: 'Al momento non è possibile registrare decisioni',
		unavailable: 'Non è stato registrato nulla e la revisione resta aperta. Riprova con lo stesso link tra qualche minuto.',
	},
	errors: {
		malformed: {
			heading: 'Questo link è incompleto',
			advice: 'Apri di nuovo il link dalla tua email; se lo incolli, copialo per intero.',
		},
		tampered: {
			heading: 'Questo link non è valido',
			advice: 'Il link è stato modificato o non appartiene a questa revisione. Apri il link dalla tua email.',
		},
		expired: {
			heading: 'Questo link è scaduto',
			advice: 'Il tempo per la revisione è finito. Chiedi al mittente una nuova richiesta.',
		},
		notReviewer: { heading: 'Non sei tra i revisori di questa richiesta', advice: 'Chiedi al mittente di aggiungerti come revisore.' },
		methodNotAllowed: { heading: 'Metodo non consentito', advice: 'Apri il link in un browser.' },
		foreignForm: {
			heading: 'Questo modulo non proviene dalla tua pagina di revisione',
			advice: 'Apri il link dalla tua email e decidi lì.',
		},
		noDecision: {
			heading: 'Nessuna decisione ricevuta',
			advice: 'Usa il pulsante «Approva» o «Rifiuta» nella pagina di revisione.',
		},
		commentTooLong: {
			heading: 'Commento troppo lungo',
			advice: 'Accorcia il commento a {max} caratteri al massimo e invialo di nuovo.',
		},
		draftMissing: { heading: 'Manca la bozza', advice: 'Usa il modulo nella pagina di revisione.' },
		textTooLong: {
			heading: 'Testo troppo lungo',
			advice: 'Accorcia il testo a {max} caratteri al massimo e invialo di nuovo.',
		},
		serverError: {
			heading: 'Si è verificato un errore',
			advice: 'La tua decisione non è stata registrata. Riprova tra un minuto.',
		},
	},
	email: {
		greeting: 'Buongiorno,',
		greetingNamed: 'Buongiorno {name},',
		defaultIntro: 'Una bozza attende la tua revisione.',
		draft: 'Bozza',
		draftText: 'Bozza:',
		reviewButton: 'Rivedi la bozza',
		howTo: 'Nella pagina di revisione puoi approvarla, modificarla o rifiutarla.',
		expiry: 'Questo link personale scade {date}; ti chiediamo di non inoltrarlo.',
		fallback: 'Se il pulsante non funziona, apri: {url}',
		reviewHere: 'Rivedila (approva, modifica o rifiuta) qui: {url}',
	},
	chat: {
		reviewAs: 'Rivedi come {name}',
		linksExpire: 'I link scadono {date}.',
	},
	emailHeaders: { to: 'A', subject: 'Oggetto' },
};

export const MESSAGES: Readonly<Record<ReviewLanguage, Messages>> = { en, fr, de, es, it };

export function isReviewLanguage(value: unknown): value is ReviewLanguage {
	return typeof value === 'string' && (REVIEW_LANGUAGES as readonly string[]).includes(value);
}

/**
 * Reads a language code as a parameter or expression gives it: `fr`, `FR`, `fr-FR` and `fr_CA` all mean French.
 * Anything else is an InputError naming the field.
 */
export function parseReviewLanguage(value: unknown, field = 'language'): ReviewLanguage {
	const primary = typeof value === 'string' ? value.trim().toLowerCase().split(/[-_]/)[0] : undefined;
	if (isReviewLanguage(primary)) return primary;
	const choices = REVIEW_LANGUAGES.map((language) => `${language} (${REVIEW_LANGUAGE_NAMES[language]})`).join(', ');
	throw new InputError(`Language "${String(value ?? '')}" is not available for reviews; use one of ${choices}.`, field);
}

/**
 * Checks an IANA time zone name the way the pages will use it (Intl throws RangeError on an unknown zone) and
 * returns its canonical spelling (`europe/paris` → `Europe/Paris`). An InputError names the field otherwise.
 */
export function validateTimeZone(value: unknown, field = 'timeZone'): string {
	const zone = typeof value === 'string' ? value.trim() : '';
	try {
		if (!zone) throw new RangeError('empty time zone');
		return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
	} catch (error) {
		if (!(error instanceof RangeError)) throw error;
		throw new InputError(
			`Time zone "${String(value ?? '')}" is not known: use an IANA name such as Europe/Paris, Europe/Berlin or UTC.`,
			field,
		);
	}
}

/** Validates both parts of a locale given by a user; errors name `language` or `timeZone`. */
export function validateReviewLocale(locale: { language?: unknown; timeZone?: unknown }): ReviewLocale {
	return {
		language: locale.language === undefined ? DEFAULT_REVIEW_LOCALE.language : parseReviewLanguage(locale.language),
		timeZone: locale.timeZone === undefined ? DEFAULT_REVIEW_LOCALE.timeZone : validateTimeZone(locale.timeZone),
	};
}

/**
 * The locale a page or message is rendered in, never failing: an unknown language falls back to English and an
 * unknown zone to UTC (the date then says "UTC", so it is still read right). Inputs are validated where they are
 * entered (validateReviewLocale); a page must render whatever state it finds.
 */
export function resolveReviewLocale(locale?: Partial<ReviewLocale>): ReviewLocale {
	const language = isReviewLanguage(locale?.language) ? locale.language : DEFAULT_REVIEW_LOCALE.language;
	let timeZone = DEFAULT_REVIEW_LOCALE.timeZone;
	try {
		if (locale?.timeZone) timeZone = validateTimeZone(locale.timeZone);
	} catch {
		// Stays UTC.
	}
	return { language, timeZone };
}

export function messagesFor(locale?: Partial<ReviewLocale>): Messages {
	return MESSAGES[resolveReviewLocale(locale).language];
}

const PLACEHOLDER = /\{(\w+)\}/g;

/** The placeholder names of a template, e.g. `['reviewer', 'date']`. */
export function placeholdersOf(template: string): string[] {
	return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]);
}

function fill(template: string, values: Record<string, string>, escapeStatic: (text: string) => string): string {
	return template
		.split(/(\{\w+\})/)
		.map((part) => {
			const name = /^\{(\w+)\}$/.exec(part)?.[1];
			if (name === undefined) return escapeStatic(part);
			if (!(name in values)) throw new Error(`Message placeholder {${name}} has no value.`);
			return values[name];
		})
		.join('');
}

/** Plain text (e-mail text part, chat): placeholders replaced verbatim. */
export function formatText(template: string, values: Record<string, string | number> = {}): string {
	return fill(template, Object.fromEntries(Object.entries(values).map(([key, value]) => [key, String(value)])), (text) => text);
}

/**
 * HTML: the template's static text is escaped, and the values — already-safe HTML the caller built with
 * escapeHtml (<bdi>, <time>) — are inserted as they are.
 */
export function formatHtml(template: string, htmlValues: Record<string, string> = {}): string {
	return fill(template, htmlValues, escapeHtml);
}

/** Picks the plural form for `count` by the language's rules; CLDR's "many" (French millions) reads as "other". */
export function pluralText(forms: PluralText, count: number, locale?: Partial<ReviewLocale>): string {
	const { language } = resolveReviewLocale(locale);
	return new Intl.PluralRules(REVIEW_LANGUAGE_TAGS[language]).select(count) === 'one' ? forms.one : forms.other;
}

export function formatNumber(value: number, locale?: Partial<ReviewLocale>): string {
	return new Intl.NumberFormat(REVIEW_LANGUAGE_TAGS[resolveReviewLocale(locale).language]).format(value);
}

/** " UTC" after a UTC time, " (Europe/Paris)" after any other, so nobody misreads whose clock it is. */
function zoneSuffix(timeZone: string): string {
	return timeZone === 'UTC' ? ' UTC' : ` (${timeZone})`;
}

/**
 * A date as a reviewer reads it, with its zone: `medium` on pages ("le 3 déc. 2026 à 14:05 (Europe/Paris)" once
 * the sentence adds "le"), `full` in messages that wait in an inbox ("jeudi 3 décembre 2026 à 14:05").
 */
export function formatDateTime(value: Date | string | number, locale?: Partial<ReviewLocale>, style: 'medium' | 'full' = 'medium'): string {
	const { language, timeZone } = resolveReviewLocale(locale);
	const date = new Date(value);
	const tag = REVIEW_LANGUAGE_TAGS[language];
	if (style === 'full') {
		return new Intl.DateTimeFormat(tag, { dateStyle: 'full', timeStyle: 'short', timeZone }).format(date) + zoneSuffix(timeZone);
	}
	const day = new Intl.DateTimeFormat(tag, { dateStyle: 'medium', timeZone }).format(date);
	const time = new Intl.DateTimeFormat(tag, { timeStyle: 'short', timeZone }).format(date);
	return formatText(MESSAGES[language].dateTime, { date: day, time }) + zoneSuffix(timeZone);
}

/** A date inside a machine-readable <time>, as element content. */
export function timeHtml(value: Date | string | number, locale?: Partial<ReviewLocale>, style: 'medium' | 'full' = 'medium'): string {
	const iso = new Date(value).toISOString();
	return `<time datetime="${escapeHtml(iso)}">${escapeHtml(formatDateTime(value, locale, style))}</time>`;
}
