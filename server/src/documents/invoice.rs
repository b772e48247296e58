//! The invoice of a sale at the counter, and the credit note of an exchange or a
//! refund: in French (the language of the law they quote), with the selling
//! organisation's identity, the number of its series, the beneficiary's pseudonymous
//! reference (never a name), the devices and their guarantee, the payments, the VAT
//! mention that applies to the seller and the legal mentions of a refurbished device
//! sold to a consumer.

use super::Doc;
use crate::clock::Clock;
use filiere_shared::names::Named;
use filiere_shared::sales::*;
use filiere_shared::{Lang, SaleKind};

/// Who sells: as the invoice states it.
pub type Seller<'a> = super::Identity<'a>;

pub struct Invoice<'a> {
    pub sale: &'a SaleView,
    pub seller: Seller<'a>,
    /// The site's address (the counter the device was handed over at).
    pub site_address: Option<&'a str>,
    /// A credit note's invoice number.
    pub credited: Option<&'a str>,
    pub clock: Clock,
}

fn euros(cents: i64) -> String {
    format_euros(cents, Lang::Fr)
}

pub fn render(v: &Invoice) -> Vec<u8> {
    let s = v.sale;
    let c = v.clock;
    let mut doc = Doc::new();
    doc.identity(&v.seller);
    doc.gap(4.0);
    let title = match s.kind {
        SaleKind::Invoice => format!("Facture n° {}", s.number),
        SaleKind::CreditNote => format!("Avoir n° {}", s.number),
    };
    doc.text(8.0, true, &title);
    if let Some(n) = v.credited {
        doc.text(
            4.5,
            false,
            &format!("Annule et remplace en tout ou partie la facture n° {n}"),
        );
    }
    doc.gap(2.0);
    doc.field("Date", &c.day(s.sold_at));
    let place = match v.site_address {
        Some(a) => format!("{} — {a}", s.site_name),
        None => s.site_name.clone(),
    };
    doc.field("Lieu de remise", &place);
    match s.partner {
        Some(_) => {
            doc.field("Client", &format!("{} (association partenaire)", s.buyer));
            if let Some(r) = &s.reason {
                doc.field("Motif de la vente", r);
            }
        }
        None => {
            doc.field("Client", &format!("bénéficiaire, référence {}", s.buyer));
            if let Some(r) = &s.reason
                && s.kind == SaleKind::CreditNote
            {
                doc.field("Motif", r);
            }
        }
    }
    if let Some(r) = s.reservation {
        doc.field("Bon de retrait", &format!("n° {r} (FILIERE-R-{r})"));
    }
    doc.rule();
    let rows: Vec<Vec<String>> = s
        .lines
        .iter()
        .map(|l| {
            let what = [l.brand.as_deref(), l.model.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let what = if what.is_empty() {
                l.category.name(Lang::Fr).to_owned()
            } else {
                format!("{} {what}", l.category.name(Lang::Fr))
            };
            vec![
                filiere_shared::code::LabelCode::readable(&l.code),
                what,
                l.guarantee_until
                    .map(|d| c.date_text(d))
                    .unwrap_or_else(|| "—".into()),
                euros(l.price_cents),
            ]
        })
        .collect();
    doc.table(
        &[31.0, 85.0, 30.0, 28.0],
        &[
            "Étiquette",
            "Appareil reconditionné",
            "Fin garantie",
            "Prix TTC",
        ],
        &rows,
    );
    doc.gap(2.0);
    let total_label = match s.kind {
        SaleKind::Invoice => "Total à payer",
        SaleKind::CreditNote => "Total de l'avoir",
    };
    doc.field(total_label, &euros(s.total_cents));
    doc.text(3.8, false, s.vat_scheme.name(Lang::Fr));
    doc.gap(2.0);
    let paid: Vec<String> = s
        .payments
        .iter()
        .map(|p| match (s.kind, p.method, p.reference.as_deref()) {
            // An exchange's credit note is settled against the new invoice.
            (SaleKind::CreditNote, filiere_shared::PaymentMethod::CreditNote, Some(r)) => {
                format!("imputé sur la facture {r} : {}", euros(p.amount_cents))
            }
            (_, m, r) => {
                let r = r.map(|r| format!(" (réf. {r})")).unwrap_or_default();
                format!("{}{r} : {}", m.name(Lang::Fr), euros(p.amount_cents))
            }
        })
        .collect();
    if !paid.is_empty() {
        let label = match s.kind {
            SaleKind::Invoice => "Règlement",
            SaleKind::CreditNote => "Règlement de l'avoir",
        };
        doc.field(label, &paid.join(" ; "));
    }
    if s.kind == SaleKind::Invoice {
        if let Some(end) = s.lines.iter().filter_map(|l| l.guarantee_until).max() {
            doc.field(
                "Garantie légale",
                &format!("jusqu'au {} inclus", c.date_text(end)),
            );
        }
        doc.rule();
        doc.text(3.2, true, "Mentions légales");
        doc.text(3.0, false, LEGAL_GUARANTEE_FR);
        doc.gap(1.0);
        doc.text(3.0, false, RECONDITIONED_FR);
        if s.lines.iter().any(|l| l.public_body) {
            doc.gap(1.0);
            doc.text(3.0, false, PUBLIC_BODY_FR);
        }
    }
    doc.gap(3.0);
    doc.text(
        3.0,
        false,
        &format!(
            "Document émis par Filière pour {} le {}.",
            v.seller.name,
            c.day(s.sold_at)
        ),
    );
    doc.finish(&title)
}
