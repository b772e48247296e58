//! The register of issued documents: each file is kept as it was handed out, under
//! the identifier printed on it, with its SHA-256. Downloading it again gives the same
//! bytes; the public verification page says what was issued under an identifier
//! (never anything personal) and whether a file is that document.

use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{issued_documents, organisations, sites, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use filiere_shared::documents::*;
use filiere_shared::*;
use sha2::{Digest, Sha256};

/// Where the public page verifies a document: printed on it, as a QR code too.
pub fn verify_path(id: &str) -> String {
    format!("/v/{id}")
}

/// A document ready to be recorded: its identifier was printed in it.
pub struct Draft {
    pub id: String,
    pub kind: DocumentKind,
    /// What it is about, such as `collection:12`.
    pub subject: String,
    /// What the public page shows: an organisation's name at most.
    pub title: String,
    pub issuer: Option<OrgId>,
    pub issuer_name: String,
    /// The site whose staff may download it again (else the region's coordinators).
    pub site: Option<SiteId>,
    pub region: RegionId,
    /// The organisation whose social workers may download it again.
    pub audience: Option<OrgId>,
    pub issued_by: UserId,
    pub signed: bool,
    pub issued_at: DateTime<Utc>,
    pub pdf: Vec<u8>,
}

/// Who issues: the organisation running the site, or the site itself.
pub struct Issuer {
    pub org: Option<OrgId>,
    pub name: String,
    pub siret: Option<String>,
    pub address: Option<String>,
    pub site_name: String,
    pub region: RegionId,
}

pub fn issuer(conn: &mut DbConnection, site: SiteId) -> ApiResult<Issuer> {
    let (site_name, region, org, site_address): (String, i64, Option<i64>, Option<String>) =
        sites::table
            .find(site.0)
            .select((
                sites::name,
                sites::region_id,
                sites::organisation_id,
                sites::address,
            ))
            .first(conn)?;
    let (name, siret, address) = match org {
        Some(o) => organisations::table
            .find(o)
            .select((
                organisations::name,
                organisations::siret,
                organisations::address,
            ))
            .first::<(String, Option<String>, Option<String>)>(conn)?,
        None => (site_name.clone(), None, site_address),
    };
    Ok(Issuer {
        org: org.map(OrgId),
        name,
        siret,
        address,
        site_name,
        region: RegionId(region),
    })
}

impl Issuer {
    /// As the document's header names it.
    pub fn identity(&self) -> crate::documents::Identity<'_> {
        crate::documents::Identity {
            name: &self.name,
            siret: self.siret.as_deref(),
            address: self.address.as_deref(),
        }
    }
}

/// A fresh identifier: 60 random bits.
pub fn new_id() -> String {
    document_id(rand::random::<u64>())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Keeps the document; answers it as issued.
pub fn record(conn: &mut DbConnection, d: &Draft) -> ApiResult<IssuedDocument> {
    let sha = sha256_hex(&d.pdf);
    diesel::insert_into(issued_documents::table)
        .values(NewIssuedDocumentRow {
            public_id: &d.id,
            kind: d.kind.as_str(),
            subject: &d.subject,
            title: &d.title,
            issuer_id: d.issuer.map(|o| o.0),
            issuer_name: &d.issuer_name,
            site_id: d.site.map(|s| s.0),
            region_id: d.region.0,
            organisation_id: d.audience.map(|o| o.0),
            issued_by: d.issued_by.0,
            signed: d.signed,
            issued_at: truncate(d.issued_at),
            sha256: &sha,
            pdf: &d.pdf,
        })
        .execute(conn)?;
    let row = find(conn, &d.id)?.ok_or_else(|| ApiError::internal("issued document vanished"))?;
    view(conn, row)
}

fn find(conn: &mut DbConnection, id: &str) -> ApiResult<Option<IssuedDocumentRow>> {
    Ok(issued_documents::table
        .filter(issued_documents::public_id.eq(id))
        .select(IssuedDocumentRow::as_select())
        .first(conn)
        .optional()?)
}

fn view(conn: &mut DbConnection, row: IssuedDocumentRow) -> ApiResult<IssuedDocument> {
    let by: String = users::table
        .find(row.issued_by)
        .select(users::display_name)
        .first(conn)?;
    Ok(IssuedDocument {
        pdf: format!("/api/v1/documents/{}/pdf", row.public_id),
        verify: verify_path(&row.public_id),
        kind: crate::service::parse_stored(&row.kind)?,
        title: row.title,
        issuer: row.issuer_name,
        issued_at: utc(row.issued_at),
        issued_by: by,
        signed: row.signed,
        sha256: row.sha256,
        id: row.public_id,
    })
}

/// The documents issued about `subject`, newest first.
pub fn list(conn: &mut DbConnection, subject: &str) -> ApiResult<Vec<IssuedDocument>> {
    let rows: Vec<IssuedDocumentRow> = issued_documents::table
        .filter(issued_documents::subject.eq(subject))
        .order((
            issued_documents::issued_at.desc(),
            issued_documents::id.desc(),
        ))
        .select(IssuedDocumentRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}

/// A document's file, for the staff of its site (technicians), region (coordinators),
/// the social workers of its organisation, and admins; anyone else is told no such
/// document exists.
pub fn pdf(
    conn: &mut DbConnection,
    actor: &Actor,
    typed: &str,
) -> ApiResult<(IssuedDocument, Vec<u8>)> {
    let not_found = || actor.err(ErrorCode::DocumentNotFound);
    let id = parse_document_id(typed).ok_or_else(not_found)?;
    let row = find(conn, &id)?.ok_or_else(not_found)?;
    let region = RegionId(row.region_id);
    let may = match (actor.role, row.site_id) {
        (Role::SocialWorker, _) => {
            row.organisation_id.is_some() && row.organisation_id == actor.org.map(|o| o.0)
        }
        (_, Some(site)) => actor.covers_site(SiteId(site), region),
        (Role::Technician, None) => false,
        (_, None) => actor.role == Role::Admin || actor.region == Some(region),
    };
    if !may {
        return Err(not_found());
    }
    let bytes: Vec<u8> = issued_documents::table
        .find(row.id)
        .select(issued_documents::pdf)
        .first(conn)?;
    Ok((view(conn, row)?, bytes))
}

/// What the public page says of an identifier, and with a file, whether it is the
/// document issued. No login: nothing personal is in the answer.
pub fn check(
    conn: &mut DbConnection,
    typed: &str,
    file: Option<&[u8]>,
    lang: Lang,
) -> ApiResult<DocumentCheck> {
    let not_found = || ApiError::new(ErrorCode::DocumentNotFound).in_lang(lang);
    let id = parse_document_id(typed).ok_or_else(not_found)?;
    let row = find(conn, &id)?.ok_or_else(not_found)?;
    Ok(DocumentCheck {
        kind: crate::service::parse_stored(&row.kind)?,
        title: row.title,
        issuer: row.issuer_name,
        issued_at: utc(row.issued_at),
        signed: row.signed,
        matches: file.map(|f| sha256_hex(f) == row.sha256),
        id: row.public_id,
    })
}
