//! What people call the domain's values, in French and English: one table for the bench
//! app and the web pages.

use crate::domain::*;
use crate::error::Lang;

/// A value with a name for people.
pub trait Named: Copy {
    /// (French, English).
    fn names(self) -> (&'static str, &'static str);

    fn name(self, lang: Lang) -> &'static str {
        let (fr, en) = self.names();
        match lang {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

impl Named for Category {
    fn names(self) -> (&'static str, &'static str) {
        use Category::*;
        match self {
            Laptop => ("Portable", "Laptop"),
            Desktop => ("Unité centrale", "Desktop"),
            AllInOne => ("Tout-en-un", "All-in-one"),
            Monitor => ("Écran", "Monitor"),
            Tablet => ("Tablette", "Tablet"),
            Phone => ("Téléphone", "Phone"),
            Server => ("Serveur", "Server"),
            Printer => ("Imprimante", "Printer"),
            OtherDevice => ("Autre appareil", "Other device"),
            Ram => ("Mémoire vive", "RAM"),
            Ssd => ("SSD", "SSD"),
            Hdd => ("Disque dur", "Hard drive"),
            Nvme => ("SSD NVMe", "NVMe SSD"),
            Cpu => ("Processeur", "CPU"),
            Psu => ("Alimentation", "Power supply"),
            Battery => ("Batterie", "Battery"),
            Screen => ("Dalle", "Screen panel"),
            Charger => ("Chargeur", "Charger"),
            Motherboard => ("Carte mère", "Motherboard"),
            Gpu => ("Carte graphique", "Graphics card"),
            Keyboard => ("Clavier", "Keyboard"),
            OtherPart => ("Autre pièce", "Other part"),
        }
    }
}

impl Named for ItemState {
    fn names(self) -> (&'static str, &'static str) {
        use ItemState::*;
        match self {
            Collected => ("Collecté", "Collected"),
            Received => ("Reçu", "Received"),
            Refurbishing => ("En reconditionnement", "Refurbishing"),
            Ready => ("Prêt", "Ready"),
            Reserved => ("Réservé", "Reserved"),
            Sold => ("Vendu", "Sold"),
            Returned => ("Retourné", "Returned"),
            Harvesting => ("En démontage", "Harvesting"),
            Harvested => ("Démonté", "Harvested"),
            ToRecycle => ("À recycler", "To recycle"),
            Recycled => ("Recyclé", "Recycled"),
            InStock => ("En stock", "In stock"),
            TestedGood => ("Testée bonne", "Tested good"),
            Faulty => ("Défectueuse", "Faulty"),
            Fitted => ("Montée", "Fitted"),
            Destroyed => ("Détruite", "Destroyed"),
        }
    }
}

impl Named for Route {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Route::Refurbish => ("Reconditionner", "Refurbish"),
            Route::Harvest => ("Démonter pour pièces", "Harvest for parts"),
            Route::Recycle => ("Recycler", "Recycle"),
        }
    }
}

impl Named for Grade {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Grade::A => ("A", "A"),
            Grade::B => ("B", "B"),
            Grade::C => ("C", "C"),
        }
    }
}

impl Named for DriveStatus {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            DriveStatus::Pending => ("à effacer", "to erase"),
            DriveStatus::Erased => ("effacé", "erased"),
            DriveStatus::Failed => ("échec d'effacement", "erasure failed"),
            DriveStatus::Destroyed => ("détruit", "destroyed"),
        }
    }
}

impl Named for ErasureResult {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            ErasureResult::Erased => ("effacé", "erased"),
            ErasureResult::Failed => ("échec", "failed"),
            ErasureResult::Aborted => ("interrompu", "aborted"),
        }
    }
}

impl Named for QaCheck {
    fn names(self) -> (&'static str, &'static str) {
        use QaCheck::*;
        match self {
            Boot => ("Démarrage", "Boot"),
            Keyboard => ("Clavier", "Keyboard"),
            Touchpad => ("Pavé tactile", "Touchpad"),
            Screen => ("Écran", "Screen"),
            Usb => ("Ports USB", "USB ports"),
            Wifi => ("Wi-Fi", "Wi-Fi"),
            Ethernet => ("Ethernet", "Ethernet"),
            Webcam => ("Webcam", "Webcam"),
            Audio => ("Son", "Audio"),
            Battery => ("Batterie", "Battery"),
            Charger => ("Chargeur", "Charger"),
            Bluetooth => ("Bluetooth", "Bluetooth"),
            Ports => ("Autres ports", "Other ports"),
            Memory => ("Mémoire", "Memory"),
            Storage => ("Stockage", "Storage"),
        }
    }
}

impl Named for QaOutcome {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            QaOutcome::Pass => ("OK", "Pass"),
            QaOutcome::Fail => ("Échec", "Fail"),
            QaOutcome::NotApplicable => ("Sans objet", "N/A"),
        }
    }
}

impl Named for PartTestResult {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            PartTestResult::Good => ("Bonne", "Good"),
            PartTestResult::Faulty => ("Défectueuse", "Faulty"),
        }
    }
}

impl Named for EventType {
    fn names(self) -> (&'static str, &'static str) {
        use EventType::*;
        match self {
            Registered => ("Enregistré", "Registered"),
            Received => ("Reçu à l'atelier", "Received"),
            Triaged => ("Orienté", "Triaged"),
            DrivesDeclared => ("Disques déclarés", "Drives declared"),
            NoDriveDeclared => ("Aucun disque", "No drive"),
            DriveErased => ("Disque effacé", "Drive erased"),
            DriveDestroyed => ("Disque détruit", "Drive destroyed"),
            PartHarvested => ("Pièce prélevée", "Part harvested"),
            TeardownDone => ("Démontage terminé", "Teardown done"),
            PartTested => ("Pièce testée", "Part tested"),
            PartFitted => ("Pièce montée", "Part fitted"),
            FittedInto => ("Montée dans un appareil", "Fitted into a device"),
            PartRemoved => ("Pièce retirée", "Part removed"),
            RemovedFrom => ("Retirée d'un appareil", "Removed from a device"),
            QaTested => ("Testé (contrôle qualité)", "QA tested"),
            MarkedReady => ("Prêt à la vente", "Marked ready"),
            Reopened => ("Rouvert", "Reopened"),
            Moved => ("Déplacé", "Moved"),
            Relabelled => ("Nouvelle étiquette", "Relabelled"),
            MarkedForRecycling => ("Envoyé au recyclage", "Marked for recycling"),
            WeeeAdded => ("Ajouté au lot DEEE", "Added to WEEE batch"),
            WeeeRemoved => ("Retiré du lot DEEE", "Removed from WEEE batch"),
            Recycled => ("Recyclé", "Recycled"),
            Reserved => ("Réservé", "Reserved"),
            ReservationCancelled => ("Réservation annulée", "Reservation cancelled"),
            ReservationExpired => ("Réservation expirée", "Reservation expired"),
            Sold => ("Vendu", "Sold"),
            Returned => ("Retour sous garantie", "Returned under guarantee"),
            RepairStarted => ("Réparation sous garantie", "Repair under guarantee"),
            HandedBack => ("Rendu réparé", "Handed back repaired"),
            TakenBack => (
                "Repris (échange ou remboursement)",
                "Taken back (exchange or refund)",
            ),
            Corrected => ("Annulé (correction)", "Corrected"),
        }
    }
}

impl Named for ReservationStatus {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            ReservationStatus::Active => ("En cours", "Active"),
            ReservationStatus::Cancelled => ("Annulée", "Cancelled"),
            ReservationStatus::Expired => ("Expirée", "Expired"),
            ReservationStatus::Fulfilled => ("Remise au bénéficiaire", "Handed over"),
        }
    }
}

impl Named for BookingStatus {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            BookingStatus::Booked => ("Place réservée", "Seat booked"),
            BookingStatus::Waiting => ("Liste d'attente", "Waiting list"),
            BookingStatus::Cancelled => ("Annulée", "Cancelled"),
        }
    }
}

impl Named for Attendance {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Attendance::Attended => ("Présent·e", "Attended"),
            Attendance::NoShow => ("Absent·e", "No-show"),
        }
    }
}

impl Named for CatalogueSort {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            CatalogueSort::Recent => ("Les plus récents", "Newest first"),
            CatalogueSort::Ram => ("Mémoire (RAM)", "Memory (RAM)"),
            CatalogueSort::Screen => ("Taille d'écran", "Screen size"),
            CatalogueSort::Storage => ("Stockage", "Storage"),
        }
    }
}

impl Named for PaymentMethod {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            PaymentMethod::Cash => ("Espèces", "Cash"),
            PaymentMethod::Card => ("Carte bancaire", "Card"),
            PaymentMethod::Cheque => ("Chèque", "Cheque"),
            PaymentMethod::Voucher => ("Bon d'un partenaire", "Partner's voucher"),
            PaymentMethod::Free => ("Gratuit", "Free"),
            PaymentMethod::CreditNote => ("Avoir", "Credit note"),
        }
    }
}

impl Named for VatScheme {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            VatScheme::Franchise => (
                "TVA non applicable, art. 293 B du CGI",
                "VAT not applicable, art. 293 B of the CGI",
            ),
            VatScheme::Margin => (
                "Régime particulier – biens d'occasion (art. 297 A du CGI) : TVA sur la marge, non récupérable",
                "Margin scheme for second-hand goods (art. 297 A of the CGI): VAT on the margin, not deductible",
            ),
        }
    }
}

impl Named for SaleKind {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            SaleKind::Invoice => ("Facture", "Invoice"),
            SaleKind::CreditNote => ("Avoir", "Credit note"),
        }
    }
}

impl Named for SaleLineStatus {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            SaleLineStatus::Sold => ("Remis à l'acheteur", "With the buyer"),
            SaleLineStatus::Returned => (
                "Retour en attente de décision",
                "Returned, awaiting a decision",
            ),
            SaleLineStatus::Repairing => ("En réparation", "Being repaired"),
            SaleLineStatus::Exchanged => ("Échangé", "Exchanged"),
            SaleLineStatus::Refunded => ("Remboursé", "Refunded"),
        }
    }
}

impl Named for AfterSalesOutcome {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            AfterSalesOutcome::Repair => ("Réparation", "Repair"),
            AfterSalesOutcome::Exchange => ("Échange", "Exchange"),
            AfterSalesOutcome::Refund => ("Remboursement", "Refund"),
        }
    }
}

impl Named for CollectionStatus {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            CollectionStatus::Planned => ("Prévue ou en cours", "Planned or under way"),
            CollectionStatus::Closed => ("Close", "Closed"),
        }
    }
}

impl Named for OfferStatus {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            OfferStatus::Proposed => ("À examiner", "To review"),
            OfferStatus::Accepted => ("Acceptée", "Accepted"),
            OfferStatus::Declined => ("Déclinée", "Declined"),
        }
    }
}

impl Named for LegalStatus {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            LegalStatus::Reuse => ("Don pour réemploi", "Given for reuse"),
            LegalStatus::Waste => ("Déchet (DEEE)", "Waste (WEEE)"),
        }
    }
}

impl Named for NistLevel {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            NistLevel::Clear => ("Clear (effacement logique)", "Clear (logical erasure)"),
            NistLevel::Purge => ("Purge (effacement renforcé)", "Purge (thorough erasure)"),
            NistLevel::Destroy => ("Destroy (destruction)", "Destroy (destruction)"),
        }
    }
}

impl Named for ErasureTechnique {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            ErasureTechnique::Overwrite => ("Réécriture", "Overwrite"),
            ErasureTechnique::FirmwareSanitize => (
                "Commande d'effacement du disque",
                "Drive's sanitize command",
            ),
            ErasureTechnique::CryptoErase => ("Effacement cryptographique", "Cryptographic erase"),
            ErasureTechnique::PhysicalDestruction => {
                ("Destruction physique", "Physical destruction")
            }
        }
    }
}

impl Named for Outcome {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Outcome::Reused => ("réemployé", "reused"),
            Outcome::ReadyForReuse => ("prêt au réemploi", "ready for reuse"),
            Outcome::Parts => ("démonté pour pièces", "taken apart for parts"),
            Outcome::AwaitingRecycling => ("à recycler", "to recycle"),
            Outcome::Recycled => ("recyclé", "recycled"),
            Outcome::InProgress => ("en traitement", "being processed"),
        }
    }
}

impl Named for DocumentKind {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            DocumentKind::CollectionReceipt => ("Reçu de collecte", "Collection receipt"),
            DocumentKind::ErasureCertificate => (
                "Certificat d'effacement des données",
                "Data erasure certificate",
            ),
            DocumentKind::OutcomeReport => (
                "Rapport de devenir des équipements",
                "Equipment outcome report",
            ),
            DocumentKind::WeeeSlip => ("Bon de remise de DEEE", "WEEE handover slip"),
            DocumentKind::TrainingAttestation => {
                ("Attestation de formation", "Training attestation")
            }
        }
    }
}

impl Named for OrgKind {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            OrgKind::Donor => ("Donateur", "Donor"),
            OrgKind::Recycler => ("Recycleur", "Recycler"),
            OrgKind::SocialPartner => ("Partenaire social", "Social partner"),
            OrgKind::TrainingVenue => ("Lieu de formation", "Training venue"),
            OrgKind::Operator => ("Association gestionnaire", "Operating association"),
        }
    }
}

impl Named for Role {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Role::Technician => ("Technicien·ne", "Technician"),
            Role::Coordinator => ("Coordinateur·rice", "Coordinator"),
            Role::SocialWorker => ("Travailleur·se social·e", "Social worker"),
            Role::Admin => ("Administrateur·rice", "Admin"),
        }
    }
}

impl Named for SiteKind {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            SiteKind::Workshop => ("Atelier", "Workshop"),
            SiteKind::Warehouse => ("Entrepôt", "Warehouse"),
            SiteKind::Shop => ("Boutique", "Shop"),
        }
    }
}

impl Named for WeeeBatchStatus {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            WeeeBatchStatus::Open => ("Ouvert", "Open"),
            WeeeBatchStatus::Closed => ("Fermé et pesé", "Closed and weighed"),
            WeeeBatchStatus::HandedOver => ("Remis au recycleur", "Handed over"),
        }
    }
}

impl Named for CapCategory {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            CapCategory::Laptop => ("Ordinateur portable", "Laptop"),
            CapCategory::DesktopSet => (
                "Ordinateur fixe avec écran, clavier et souris",
                "Desktop with screen, keyboard and mouse",
            ),
            CapCategory::Tablet => ("Tablette", "Tablet"),
            CapCategory::Screen => ("Écran", "Screen"),
            CapCategory::Printer => ("Imprimante", "Printer"),
            CapCategory::MultifunctionPrinter => {
                ("Imprimante multifonction", "Multifunction printer")
            }
            CapCategory::Smartphone => ("Smartphone", "Smartphone"),
        }
    }
}

impl Named for Flow {
    fn names(self) -> (&'static str, &'static str) {
        use Flow::*;
        match self {
            Collected => ("Collectés", "Collected"),
            Intake => ("Entrés à l'atelier", "Taken in at the workshop"),
            Received => ("Reçus", "Received"),
            Ready => ("Prêts", "Ready"),
            Reserved => ("Réservés", "Reserved"),
            Sold => ("Vendus", "Sold"),
            TakenBack => ("Repris après vente", "Taken back after sale"),
            Harvested => ("Démontés", "Harvested"),
            Recycled => ("Recyclés", "Recycled"),
            Equipped => ("Foyers équipés", "Households equipped"),
        }
    }
}

impl Named for WaitingFor {
    fn names(self) -> (&'static str, &'static str) {
        use WaitingFor::*;
        match self {
            AwaitingReception => (
                "Pas encore reçu à l'atelier",
                "Not yet received at the workshop",
            ),
            AwaitingTriage => ("Pas encore trié", "Not yet triaged"),
            DrivesUndeclared => ("Disques non déclarés", "Drives not declared"),
            DrivesNotErased => ("Disque pas encore effacé", "Drive not yet erased"),
            QaMissing => ("Test qualité manquant", "QA test missing"),
            QaFailed => ("Test qualité échoué", "QA test failed"),
            AwaitingReadyMark => ("À déclarer prêt", "To be marked ready"),
            AwaitingBuyer => ("En attente d'un bénéficiaire", "Waiting for a beneficiary"),
            AwaitingPickup => ("Retrait en attente", "Pickup pending"),
            AwaitingAfterSales => ("Retour à traiter", "Return to settle"),
            TeardownPending => ("Démontage à finir", "Teardown to finish"),
            AwaitingRecycling => ("À envoyer au recyclage", "To send to recycling"),
            AwaitingWeeeBatch => ("Pas encore dans un lot DEEE", "Not yet in a WEEE batch"),
            AwaitingHandover => (
                "Lot DEEE pas encore remis",
                "WEEE batch not yet handed over",
            ),
            PartUntested => ("Pièce à tester", "Part to test"),
            AwaitingUse => ("Pièce en stock", "Part in stock"),
        }
    }
}

/// A whole number as people read it: "12 345" in French, "12,345" in English.
pub fn int(n: i64, lang: Lang) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = lang.pick("\u{a0}", ",");
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Minutes as hours, as people write them: "2 h 30", "3 h", "1 250 h".
pub fn hours(minutes: i64, lang: Lang) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    if m == 0 {
        format!("{} h", int(h, lang))
    } else {
        format!("{} h {m:02}", int(h, lang))
    }
}

/// A screen's diagonal as people read it, to the hundredth at most: `14"`, `23,8"`,
/// `5,65"` in French, `23.8"` in English.
pub fn inches_text(inches: f32, lang: Lang) -> String {
    let hundredths = (inches * 100.0).round() as i64;
    let whole = hundredths / 100;
    let fraction = format!("{:02}", (hundredths % 100).abs());
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{whole}\"")
    } else {
        format!("{whole}{}{fraction}\"", lang.pick(",", "."))
    }
}

/// A storage type (as the bench records it, in any case) as it is written: SSD, NVMe,
/// HDD, eMMC; any other as given.
pub fn storage_type_text(stored: &str) -> String {
    match stored.trim().to_ascii_lowercase().as_str() {
        "ssd" => "SSD".to_owned(),
        "nvme" => "NVMe".to_owned(),
        "hdd" => "HDD".to_owned(),
        "emmc" => "eMMC".to_owned(),
        _ => stored.trim().to_owned(),
    }
}

/// Grams shown as kilograms to the tenth, French or English decimals.
pub fn kg_text(grams: i64, lang: Lang) -> String {
    let whole = grams / 1000;
    let tenths = (grams % 1000).abs() / 100;
    let sep = lang.pick(",", ".");
    format!("{whole}{sep}{tenths} kg")
}

/// Grams as kilograms or tonnes, as people read them.
pub fn mass(grams: i64, lang: Lang) -> String {
    if grams.abs() >= 10_000_000 {
        let t = grams as f64 / 1_000_000.0;
        let s = format!("{t:.1}");
        format!(
            "{} t",
            if lang == Lang::Fr {
                s.replace('.', ",")
            } else {
                s
            }
        )
    } else {
        format!("{} kg", int((grams + 500) / 1000, lang))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_as_people_write_them() {
        assert_eq!(hours(150, Lang::Fr), "2 h 30");
        assert_eq!(hours(180, Lang::Fr), "3 h");
        assert_eq!(hours(45, Lang::En), "0 h 45");
    }

    #[test]
    fn screens_and_storage_as_people_write_them() {
        assert_eq!(inches_text(23.8, Lang::Fr), "23,8\"");
        assert_eq!(inches_text(23.8, Lang::En), "23.8\"");
        assert_eq!(inches_text(14.0, Lang::Fr), "14\"");
        assert_eq!(inches_text(15.6, Lang::Fr), "15,6\"");
        assert_eq!(inches_text(5.65, Lang::Fr), "5,65\"");
        assert_eq!(inches_text(10.05, Lang::En), "10.05\"");
        assert_eq!(storage_type_text("emmc"), "eMMC");
        assert_eq!(storage_type_text("NVME"), "NVMe");
        assert_eq!(storage_type_text("ssd"), "SSD");
        assert_eq!(storage_type_text("Optane"), "Optane");
    }

    #[test]
    fn every_value_has_a_french_and_an_english_name() {
        fn all<T: Named>(values: &[T]) {
            for v in values {
                let (fr, en) = v.names();
                assert!(!fr.is_empty() && !en.is_empty());
            }
        }
        all(Category::ALL);
        all(ItemState::ALL);
        all(Route::ALL);
        all(QaCheck::ALL);
        all(EventType::ALL);
        all(ReservationStatus::ALL);
        all(BookingStatus::ALL);
        all(Attendance::ALL);
        all(CatalogueSort::ALL);
        all(PaymentMethod::ALL);
        all(VatScheme::ALL);
        all(SaleKind::ALL);
        all(SaleLineStatus::ALL);
        all(AfterSalesOutcome::ALL);
        all(CapCategory::ALL);
        all(CollectionStatus::ALL);
        all(OfferStatus::ALL);
        all(LegalStatus::ALL);
        all(DocumentKind::ALL);
        all(Outcome::ALL);
        all(NistLevel::ALL);
        all(ErasureTechnique::ALL);
        all(OrgKind::ALL);
        all(Role::ALL);
        all(SiteKind::ALL);
        all(WeeeBatchStatus::ALL);
        assert_eq!(ItemState::Ready.name(Lang::Fr), "Prêt");
        assert_eq!(ItemState::Ready.name(Lang::En), "Ready");
    }
}
