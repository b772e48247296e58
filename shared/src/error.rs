//! Stable error codes, shared by the server (which answers them) and the bench app
//! (which shows them). A code never changes meaning; the message is for people and is
//! given in their language.

use serde::{Deserialize, Serialize};

/// The language a person reads Filière in. French first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the first supported language of an `Accept-Language` header
    /// (`en-GB,en;q=0.9,fr;q=0.8`), honouring q-values; French when none fits.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// Chooses between a French and an English text.
    pub fn pick<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

macro_rules! error_codes {
    ($($(#[$m:meta])* $variant:ident = $s:literal, $status:literal, $fr:literal, $en:literal;)*) => {
        /// Every error Filière answers, with its HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[$m])* #[serde(rename = $s)] $variant),*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $s),* }
            }

            /// The HTTP status that fits.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),* }
            }

            /// The general message, in the reader's language.
            pub fn message(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((ErrorCode::$variant, Lang::Fr) => $fr, (ErrorCode::$variant, Lang::En) => $en,)*
                }
            }
        }
    };
}

error_codes! {
    // --- malformed input: 400
    InvalidJson = "invalid_json", 400, "Le corps de la requête n'est pas un JSON valide.", "The request body is not valid JSON.";
    UnknownField = "unknown_field", 400, "La requête contient un champ inconnu.", "The request contains an unknown field.";
    InvalidInput = "invalid_input", 400, "Donnée invalide.", "Invalid input.";
    InvalidQuery = "invalid_query", 400, "Paramètres de recherche invalides.", "Invalid query parameters.";
    UnsupportedMediaType = "unsupported_media_type", 415, "Le corps de la requête doit être du JSON (Content-Type: application/json).", "The request body must be JSON (Content-Type: application/json).";
    PayloadTooLarge = "payload_too_large", 413, "La requête est trop volumineuse.", "The request is too large.";
    MalformedRequest = "malformed_request", 400, "La requête HTTP est mal formée.", "The HTTP request is malformed.";
    UriTooLong = "uri_too_long", 414, "L'adresse demandée est trop longue.", "The requested address is too long.";
    RequestTimeout = "request_timeout", 408, "La requête n'est pas arrivée à temps.", "The request did not arrive in time.";
    RequestHeadTooLarge = "request_head_too_large", 431, "L'en-tête de la requête est trop volumineux.", "The request head is too large.";
    // --- authentication: 401
    Unauthenticated = "unauthenticated", 401, "Connexion requise.", "You must log in.";
    InvalidCredentials = "invalid_credentials", 401, "Identifiant ou mot de passe incorrect.", "Wrong username or password.";
    InvalidBenchToken = "invalid_bench_token", 401, "Ce poste n'est pas reconnu : jeton de poste invalide ou révoqué.", "This bench is not recognised: bench token invalid or revoked.";
    UnknownBadge = "unknown_badge", 401, "Badge inconnu ou désactivé.", "Unknown or disabled badge.";
    // --- authorisation: 403
    Forbidden = "forbidden", 403, "Votre rôle ne permet pas cette action.", "Your role does not allow this action.";
    OutOfScope = "out_of_scope", 403, "Ceci est hors de votre périmètre (site, région ou organisation).", "This is outside your scope (site, region or organisation).";
    CsrfRejected = "csrf_rejected", 403, "Le formulaire a expiré ou ne vient pas de Filière : rechargez la page puis recommencez.", "The form has expired or did not come from Filière: reload the page and try again.";
    DataSecurityRequired = "data_security_required", 403, "Seule une personne ayant le droit « sécurité des données » peut signer un certificat d'effacement : demandez-le à l'administrateur.", "Only a person with the “data security” right may sign an erasure certificate: ask the admin for it.";
    BadgeWrongSite = "badge_wrong_site", 403, "Ce badge n'appartient pas à un technicien de ce site.", "This badge does not belong to a technician of this site.";
    // --- not found: 404
    NotFound = "not_found", 404, "Ressource introuvable.", "Resource not found.";
    ItemNotFound = "item_not_found", 404, "Objet introuvable.", "Item not found.";
    CodeUnknown = "code_unknown", 404, "Ce code n'a jamais été attribué par Filière.", "This code was never issued by Filière.";
    NothingFound = "nothing_found", 404, "Aucun objet ne correspond à cette recherche.", "No item matches this search.";
    SiteNotFound = "site_not_found", 404, "Site introuvable.", "Site not found.";
    RegionNotFound = "region_not_found", 404, "Région introuvable.", "Region not found.";
    OrganisationNotFound = "organisation_not_found", 404, "Organisation introuvable.", "Organisation not found.";
    UserNotFound = "user_not_found", 404, "Utilisateur introuvable.", "User not found.";
    BenchNotFound = "bench_not_found", 404, "Poste introuvable.", "Bench not found.";
    CollectionNotFound = "collection_not_found", 404, "Collecte introuvable.", "Collection not found.";
    WeeeBatchNotFound = "weee_batch_not_found", 404, "Lot DEEE introuvable.", "WEEE batch not found.";
    LabelBatchNotFound = "label_batch_not_found", 404, "Lot d'étiquettes introuvable.", "Label batch not found.";
    TemplateNotFound = "template_not_found", 404, "Modèle d'étiquette inconnu (intégrés : intake, part, sale).", "Unknown label template (built in: intake, part, sale).";
    PrinterNotFound = "printer_not_found", 404, "Imprimante introuvable ou désactivée.", "Printer not found or disabled.";
    BeneficiaryNotFound = "beneficiary_not_found", 404, "Bénéficiaire introuvable.", "Beneficiary not found.";
    ReservationNotFound = "reservation_not_found", 404, "Réservation introuvable.", "Reservation not found.";
    TrainingSessionNotFound = "training_session_not_found", 404, "Session de formation introuvable.", "Training session not found.";
    BookingNotFound = "booking_not_found", 404, "Inscription introuvable.", "Booking not found.";
    NeedNotFound = "need_not_found", 404, "Besoin introuvable.", "Need not found.";
    SaleNotFound = "sale_not_found", 404, "Vente introuvable.", "Sale not found.";
    PriceRuleNotFound = "price_rule_not_found", 404, "Prix solidaire introuvable.", "Solidarity price not found.";
    OfferNotFound = "offer_not_found", 404, "Proposition de don introuvable.", "Donation offer not found.";
    SetupLinkInvalid = "setup_link_invalid", 404, "Ce lien n'est plus valable (déjà utilisé ou expiré) : demandez-en un nouveau à l'administrateur.", "This link is no longer valid (already used or expired): ask the admin for a new one.";
    ImportNotFound = "import_not_found", 404, "Import introuvable.", "Import not found.";
    DocumentNotFound = "document_not_found", 404, "Aucun document n'a été émis sous cet identifiant.", "No document was issued under this identifier.";
    AfterSalesNotFound = "after_sales_not_found", 404, "Dossier de service après-vente introuvable.", "After-sales case not found.";
    MethodNotAllowed = "method_not_allowed", 405, "Méthode non autorisée sur cette adresse.", "Method not allowed on this address.";
    // --- conflicts: 409
    VersionConflict = "version_conflict", 409, "L'objet a changé entre-temps : rechargez-le puis recommencez.", "The item changed in the meantime: reload it and try again.";
    IdempotencyConflict = "idempotency_conflict", 409, "Cette clé d'idempotence a déjà servi pour une autre requête.", "This idempotency key was already used for another request.";
    CodeAlreadyClaimed = "code_already_claimed", 409, "Cette étiquette est déjà attribuée à un objet.", "This label is already attached to an item.";
    AlreadyReserved = "already_reserved", 409, "Ce PC vient d'être réservé pour quelqu'un d'autre : choisissez-en un autre.", "This PC has just been reserved for someone else: choose another one.";
    NotAvailable = "not_available", 409, "Ce PC n'est pas disponible à la réservation.", "This PC is not available for reservation.";
    ReferenceTaken = "reference_taken", 409, "Cette référence est déjà utilisée dans votre organisation.", "This reference is already used in your organisation.";
    AlreadyBooked = "already_booked", 409, "Ce bénéficiaire est déjà inscrit à cette session.", "This beneficiary is already booked on this session.";
    NotForSale = "not_for_sale", 409, "Cet appareil n'est pas en vente : il doit être prêt (ou réservé pour ce bénéficiaire) et sur le site de la vente.", "This device is not for sale: it must be ready (or reserved for this beneficiary) and at the sale's site.";
    CollectionClosed = "collection_closed", 409, "Cette collecte est close : plus rien ne s'y ajoute.", "This collection is closed: nothing more can be added to it.";
    OfferDecided = "offer_decided", 409, "Cette proposition a déjà été acceptée ou déclinée.", "This offer has already been accepted or declined.";
    DrivesPending = "drives_pending", 409, "Certificat impossible pour l'instant : des disques de cette collecte ne sont ni effacés ni détruits, ou des appareils n'ont pas encore leurs disques déclarés.", "No certificate yet: some drives of this collection are neither erased nor destroyed, or some devices do not have their drives declared yet.";
    Duplicate = "duplicate", 409, "Cet enregistrement existe déjà.", "This record already exists.";
    // --- well-formed, but refused by a rule the schema cannot state: 422
    InvalidValue = "invalid_value", 422, "Valeur refusée.", "Value refused.";
    InvalidCode = "invalid_code", 422, "Ce n'est pas un code d'étiquette Filière.", "This is not a Filière label code.";
    CodeCheckFailed = "code_check_failed", 422, "Code mal lu ou mal saisi : le caractère de contrôle ne correspond pas.", "Code misread or mistyped: the check character does not match.";
    // --- refused by the lifecycle rules: 422
    InvalidTransition = "invalid_transition", 422, "Cette étape n'est pas possible dans l'état actuel de l'objet.", "This step is not possible in the item's current state.";
    WrongItemKind = "wrong_item_kind", 422, "Cette étape ne s'applique pas à ce type d'objet.", "This step does not apply to this kind of item.";
    DrivesUndeclared = "drives_undeclared", 422, "Les disques de l'appareil n'ont pas été déclarés (ou « aucun disque »).", "The device's drives have not been declared (or \"no drive\").";
    DrivesNotErased = "drives_not_erased", 422, "Des disques ne sont ni effacés ni détruits.", "Some drives are neither erased nor destroyed.";
    DrivesAlreadyDeclared = "drives_already_declared", 422, "Les disques de cet objet sont déjà déclarés.", "This item's drives are already declared.";
    DuplicateDriveSerial = "duplicate_drive_serial", 422, "Ce numéro de série de disque est déjà déclaré.", "This drive serial number is already declared.";
    UnknownDrive = "unknown_drive", 422, "Aucun disque de ce numéro de série dans cet objet.", "No drive with this serial number in this item.";
    DriveSerialRequired = "drive_serial_required", 422, "Un disque prélevé doit indiquer son numéro de série.", "A harvested drive must give its serial number.";
    DriveDestroyed = "drive_destroyed", 422, "Ce disque a été détruit.", "This drive has been destroyed.";
    QaMissing = "qa_missing", 422, "Aucun test qualité valide : testez l'appareil.", "No valid QA test: test the device.";
    QaFailed = "qa_failed", 422, "Le dernier test qualité a échoué.", "The last QA test failed.";
    PartNotTestedGood = "part_not_tested_good", 422, "La pièce doit être testée bonne avant d'être montée.", "The part must be tested good before it is fitted.";
    PartAlreadyFitted = "part_already_fitted", 422, "La pièce est déjà montée dans un appareil.", "The part is already fitted in a device.";
    PartOtherSite = "part_other_site", 422, "La pièce n'est pas en stock sur le même site que l'appareil.", "The part is not in stock at the device's site.";
    PartNotInDevice = "part_not_in_device", 422, "Cette pièce n'est pas montée dans cet appareil.", "This part is not fitted in this device.";
    PartsStillFitted = "parts_still_fitted", 422, "Des pièces suivies sont encore montées dans l'appareil.", "Tracked parts are still fitted in the device.";
    DriveNotErased = "drive_not_erased", 422, "Ce disque n'est ni effacé ni détruit.", "This drive is neither erased nor destroyed.";
    SameSite = "same_site", 422, "L'objet est déjà sur ce site.", "The item is already at this site.";
    WeeeBatchNotOpen = "weee_batch_not_open", 422, "Ce lot DEEE n'est plus ouvert.", "This WEEE batch is no longer open.";
    WeeeBatchOtherSite = "weee_batch_other_site", 422, "Ce lot DEEE est sur un autre site.", "This WEEE batch is at another site.";
    NotInWeeeBatch = "not_in_weee_batch", 422, "L'objet n'est pas dans ce lot DEEE.", "The item is not in this WEEE batch.";
    AlreadyInWeeeBatch = "already_in_weee_batch", 422, "L'objet est déjà dans un lot DEEE.", "The item is already in a WEEE batch.";
    WeeeBatchEmpty = "weee_batch_empty", 422, "Le lot DEEE est vide.", "The WEEE batch is empty.";
    WeeeBatchNotClosed = "weee_batch_not_closed", 422, "Le lot DEEE doit être fermé et pesé avant la remise.", "The WEEE batch must be closed and weighed before the handover.";
    NothingToCorrect = "nothing_to_correct", 422, "Il n'y a aucune étape à corriger.", "There is no step to correct.";
    CorrectionNotPossible = "correction_not_possible", 422, "Cette étape ne se corrige pas par annulation.", "This step cannot be corrected by undoing it.";
    CorrectionTargetMismatch = "correction_target_mismatch", 422, "Ce n'est pas la dernière étape de l'objet.", "This is not the item's last step.";
    LabelUnscannable = "label_unscannable", 422, "Cette étiquette ne serait pas lisible au scanner (modules du QR trop petits ou marge blanche insuffisante).", "This label would not scan (QR modules too small or quiet zone too narrow).";
    LabelDoesNotFit = "label_does_not_fit", 422, "Le contenu ne tient pas sur ce format d'étiquette.", "The content does not fit this label size.";
    InvalidTemplate = "invalid_template", 422, "Modèle d'étiquette invalide.", "Invalid label template.";
    LabelNeedsItem = "label_needs_item", 422, "Ce modèle imprime les informations d'un objet : ce code n'est attribué à aucun objet.", "This template prints an item's details: this code is not attached to any item.";
    InvalidRecipient = "invalid_recipient", 422, "Cette organisation ne convient pas pour ce rôle.", "This organisation does not fit this role.";
    // --- refused by the rules of reservations and training: 422
    ProofLapsed = "proof_lapsed", 422, "Le justificatif d'éligibilité du bénéficiaire n'est plus valable : mettez-le à jour.", "The beneficiary's eligibility proof has lapsed: update it.";
    HouseholdLimit = "household_limit", 422, "Ce foyer a déjà reçu ou réservé un ordinateur dans la période autorisée. Pour passer outre, indiquez pourquoi.", "This household already received or reserved a computer within the allowed period. To override, say why.";
    ReservationNotActive = "reservation_not_active", 422, "Cette réservation n'est plus en cours.", "This reservation is no longer active.";
    PickupOutsideHold = "pickup_outside_hold", 422, "Le créneau de retrait doit tomber entre maintenant et la fin de la réservation.", "The pickup slot must fall between now and the end of the hold.";
    SessionPast = "session_past", 422, "Cette session de formation a déjà eu lieu.", "This training session has already taken place.";
    ReportMatchesNothing = "report_matches_nothing", 422, "Aucun disque de ce rapport ne correspond à un disque de cette collecte ou de ce site (numéros de série dans `details.unmatched`) : rien n'a été enregistré.", "No drive of this report matches a drive of this collection or site (serial numbers in `details.unmatched`): nothing was recorded.";
    UnreadableReport = "unreadable_report", 422, "Ce fichier n'est ni un journal nwipe ni un rapport Blancco (XML) lisible.", "This file is neither an nwipe log nor a readable Blancco (XML) report.";
    AssetListRefused = "asset_list_refused", 422, "Fichier refusé : corrigez les lignes signalées puis importez-le de nouveau. Rien n'a été enregistré.", "File refused: correct the lines pointed out, then import it again. Nothing was recorded.";
    NotAttended = "not_attended", 422, "Une attestation de formation suppose la présence à la session enregistrée.", "A training attestation needs the attendance at the session recorded.";
    SessionNotPast = "session_not_past", 422, "La présence se note après le début de la session.", "Attendance is recorded once the session has started.";
    BeneficiaryErased = "beneficiary_erased", 422, "Les données de ce bénéficiaire ont été effacées.", "This beneficiary's data has been erased.";
    AfterSalesPending = "after_sales_pending", 422, "Cet appareil est rentré sous garantie : le service après-vente doit d'abord décider (réparation, échange ou remboursement).", "This device came back under the guarantee: after-sales must decide first (repair, exchange or refund).";
    // --- refused by the rules of sales: 422
    OverPriceCap = "over_price_cap", 422, "Prix au-dessus du plafond légal de revente d'un bien venant d'un organisme public (décret du 7 novembre 2022).", "Price above the legal resale cap for a device from a public body (décret of 7 November 2022).";
    PriceMissing = "price_missing", 422, "Aucun prix solidaire n'est fixé pour cet appareil dans la région : la coordination doit le fixer, ou indiquez le prix.", "No solidarity price is set for this device in the region: the coordination must set it, or give the price.";
    PaymentsMismatch = "payments_mismatch", 422, "Les paiements n'égalent pas le total de la vente.", "The payments do not add up to the sale's total.";
    TrainingMissing = "training_missing", 422, "Ni formation réservée ni refus enregistré : la travailleuse sociale doit réserver une session ou noter le refus du bénéficiaire.", "No training booked and no refusal recorded: the social worker must book a session or record the beneficiary's refusal.";
    GuaranteeOver = "guarantee_over", 422, "La garantie légale de cet appareil est terminée.", "This device's legal guarantee has ended.";
    AfterSalesClosed = "after_sales_closed", 422, "Ce dossier de service après-vente est déjà traité.", "This after-sales case is already settled.";
    NoSeller = "no_seller", 422, "Ce site n'est rattaché à aucune organisation qui vend : un administrateur doit l'indiquer.", "This site belongs to no selling organisation: an admin must set it.";
    FormRejected = "form_rejected", 422, "Le formulaire n'a pas pu être accepté : rechargez la page et envoyez-le de nouveau.", "The form could not be accepted: reload the page and send it again.";
    FormTooFast = "form_too_fast", 422, "Formulaire envoyé trop vite : relisez-le puis envoyez-le de nouveau.", "Form sent too fast: read it over, then send it again.";
    FormExpired = "form_expired", 422, "Ce formulaire date de plus d'un jour : rechargez la page et envoyez-le de nouveau.", "This form is more than a day old: reload the page and send it again.";
    WrongPassword = "wrong_password", 422, "Le mot de passe actuel n'est pas le bon.", "The current password is not right.";
    ConsentRequired = "consent_required", 422, "Le consentement du bénéficiaire est nécessaire.", "The beneficiary's consent is required.";
    // --- too many tries: 429
    TooManyAttempts = "too_many_attempts", 429, "Trop de tentatives de connexion : patientez une minute avant de réessayer.", "Too many login attempts: wait a minute before trying again.";
    TooManyOffers = "too_many_offers", 429, "Trop de propositions envoyées aujourd'hui depuis cette adresse ou pour ce SIRET : réessayez demain, ou appelez l'association.", "Too many offers sent today from this address or for this SIRET: try again tomorrow, or call the association.";
    // --- server side
    Internal = "internal", 500, "Erreur interne du serveur. L'incident est journalisé.", "Internal server error. The incident has been logged.";
    PrinterUnreachable = "printer_unreachable", 502, "L'imprimante ne répond pas : rien n'a été imprimé ni compté. Vérifiez qu'elle est allumée et branchée, puis réessayez.", "The printer does not answer: nothing was printed or counted. Check that it is on and connected, then try again.";
    PrintFailed = "print_failed", 502, "L'impression a échoué : vérifiez l'imprimante puis réessayez.", "Printing failed: check the printer, then try again.";
    Unavailable = "unavailable", 503, "Service momentanément indisponible, réessayez.", "Service temporarily unavailable, try again.";
    StorageFull = "storage_full", 507, "Le disque du serveur est plein : rien n'a été enregistré. Prévenez la personne qui s'occupe du serveur.", "The server's disk is full: nothing was saved. Tell whoever looks after the server.";
}

/// Documented by hand: the derive would name the variants, not the codes sent.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A stable error code; its meaning never changes."))
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ErrorCode {}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// Machine-readable specifics (the field at fault, the current version, the
    /// drives not erased…), when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
    /// The request's id, as in the server's log lines and its `X-Request-Id` header:
    /// what to quote when reporting a problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip_through_json() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *code);
            assert!((400..600).contains(&code.http_status()));
            assert_ne!(code.message(Lang::Fr), code.message(Lang::En));
        }
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(
            Lang::from_accept_language("en-GB,en;q=0.9,fr;q=0.8"),
            Lang::En
        );
        assert_eq!(
            Lang::from_accept_language("de-DE,fr;q=0.5,en;q=0.4"),
            Lang::Fr
        );
        assert_eq!(Lang::from_accept_language("fr;q=0.3, en;q=0.7"), Lang::En);
        assert_eq!(Lang::from_accept_language("de"), Lang::Fr);
        assert_eq!(Lang::from_accept_language(""), Lang::Fr);
    }
}
