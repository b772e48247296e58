//! The demo data set: reference data from `fixtures/demo.json`, then a few hundred
//! items taken through the real operations (the same code as the API), so that every
//! history is one the rules accept.

mod donor;
mod offers;
mod sales;
mod social;

use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::service::{admin, collections, events, labels, weee};
use chrono::{DateTime, Duration, Utc};
use diesel::Connection;
use filiere_shared::api::*;
use filiere_shared::lifecycle::{DriveSpec, ErasureData, QaData, QaLine};
use filiere_shared::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const DEMO_PASSWORD: &str = "filiere-demo";

#[derive(Debug, Deserialize)]
struct Fixture {
    regions: Vec<FxRegion>,
    sites: Vec<FxSite>,
    organisations: Vec<FxOrg>,
    users: Vec<FxUser>,
    benches: Vec<FxBench>,
    #[serde(default)]
    printers: Vec<FxPrinter>,
    catalog: Vec<FxModel>,
    items_per_site: usize,
    seed: u64,
}

#[derive(Debug, Deserialize)]
struct FxPrinter {
    site: String,
    /// The token of the bench it belongs to, if it is a bench's own.
    bench: Option<String>,
    name: String,
    kind: filiere_shared::api::PrinterKind,
    address: String,
    dpi: Option<u32>,
    media: String,
}

#[derive(Debug, Deserialize)]
struct FxRegion {
    code: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct FxSite {
    key: String,
    region: String,
    name: String,
    kind: SiteKind,
    address: Option<String>,
    #[serde(default)]
    opening_hours: Option<String>,
    /// The key of the organisation that runs it and sells at its counter.
    #[serde(default)]
    organisation: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FxOrg {
    key: String,
    name: String,
    kind: OrgKind,
    siret: Option<String>,
    public_body: bool,
    region: Option<String>,
    address: Option<String>,
    weee_status: Option<String>,
    #[serde(default)]
    vat_scheme: Option<VatScheme>,
}

#[derive(Debug, Deserialize)]
struct FxUser {
    username: String,
    display_name: String,
    role: Role,
    site: Option<String>,
    region: Option<String>,
    organisation: Option<String>,
    badge: Option<String>,
    language: Lang,
    /// Signs erasure certificates.
    #[serde(default)]
    data_security: bool,
}

#[derive(Debug, Deserialize)]
struct FxBench {
    site: String,
    name: String,
    token: String,
}

#[derive(Debug, Clone, Deserialize)]
struct FxModel {
    category: Category,
    brand: String,
    model: String,
    cpu: Option<String>,
    ram_gb: Option<u32>,
    storage_gb: Option<u32>,
    storage_type: Option<String>,
    screen_inches: Option<f32>,
    weight_g: i64,
    drive_bus: Option<DriveBus>,
    drive_media: Option<DriveMedia>,
    drive_make: Option<String>,
    drive_model: Option<String>,
}

/// What the demo loader made, for the start-up message.
pub struct Summary {
    pub items: usize,
    pub events: usize,
    pub beneficiaries: usize,
    pub reservations: usize,
    pub sessions: usize,
    /// Invoices and credit notes.
    pub sales: usize,
    pub logins: Vec<(String, String)>,
    pub benches: Vec<(String, String)>,
}

/// `fixtures/` of the source tree (the demo runs from a checkout).
pub fn fixtures_dir() -> PathBuf {
    let here = PathBuf::from("fixtures");
    if here.join("demo.json").exists() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("invalid fixture: {0}")]
    Fixture(#[from] serde_json::Error),
    #[error("fixture names an unknown {0} `{1}`")]
    Unknown(&'static str, String),
    #[error("demo operation refused: {0}")]
    Api(#[from] ApiError),
}

impl From<diesel::result::Error> for DemoError {
    fn from(e: diesel::result::Error) -> Self {
        DemoError::Api(e.into())
    }
}

/// The actor kept under `name` (a site's key for technicians, a login otherwise).
fn user_of(name: &str, map: &HashMap<String, Actor>) -> Result<Actor, DemoError> {
    map.get(name)
        .cloned()
        .ok_or(DemoError::Unknown("user", name.into()))
}

fn actor_for(user: &UserView, lang: Lang, site_region: Option<RegionId>) -> Actor {
    Actor {
        user: user.id,
        name: user.display_name.clone(),
        role: user.role,
        site: user.site,
        region: user.region.or(site_region),
        org: user.organisation,
        bench: None,
        lang,
        session: 0,
    }
}

/// Fills an empty database with the demo data set.
pub fn load(conn: &mut DbConnection, dir: &Path) -> Result<Summary, DemoError> {
    let path = dir.join("demo.json");
    let text = std::fs::read_to_string(&path).map_err(|e| DemoError::Read(path.clone(), e))?;
    let fx: Fixture = serde_json::from_str(&text)?;
    conn.transaction(|c| load_fixture(c, &fx))
}

fn load_fixture(conn: &mut DbConnection, fx: &Fixture) -> Result<Summary, DemoError> {
    // The first admin is created as the command line does, then acts for the rest.
    let admin_fx = fx
        .users
        .iter()
        .find(|u| u.role == Role::Admin)
        .ok_or(DemoError::Unknown("user", "admin".into()))?;
    let admin_user = admin::create_user(
        conn,
        None,
        &NewUser {
            username: admin_fx.username.clone(),
            display_name: admin_fx.display_name.clone(),
            role: Role::Admin,
            password: Some(DEMO_PASSWORD.into()),
            badge: None,
            site: None,
            region: None,
            organisation: None,
            language: admin_fx.language,
        },
    )?;
    let root = actor_for(&admin_user, Lang::Fr, None);

    let mut regions = HashMap::new();
    for r in &fx.regions {
        let v = admin::create_region(
            conn,
            &root,
            &NewRegion {
                name: r.name.clone(),
                code: r.code.clone(),
            },
        )?;
        regions.insert(r.code.clone(), v.id);
    }
    let region = |k: &str| {
        regions
            .get(k)
            .copied()
            .ok_or(DemoError::Unknown("region", k.into()))
    };
    let mut orgs = HashMap::new();
    for o in &fx.organisations {
        let v = admin::create_organisation(
            conn,
            &root,
            &NewOrganisation {
                name: o.name.clone(),
                kind: o.kind,
                siret: o.siret.clone(),
                public_body: o.public_body,
                region: o.region.as_deref().map(region).transpose()?,
                address: o.address.clone(),
                weee_status: o.weee_status.clone(),
                contact: None,
                vat_scheme: o.vat_scheme,
            },
        )?;
        orgs.insert(o.key.clone(), v);
    }
    let org = |k: &str| {
        orgs.get(k)
            .cloned()
            .ok_or(DemoError::Unknown("organisation", k.into()))
    };
    let mut sites: Vec<(String, SiteView)> = Vec::new();
    for s in &fx.sites {
        let v = admin::create_site(
            conn,
            &root,
            &NewSite {
                region: region(&s.region)?,
                name: s.name.clone(),
                kind: s.kind,
                address: s.address.clone(),
                opening_hours: s.opening_hours.clone(),
                organisation: s
                    .organisation
                    .as_deref()
                    .map(|o| org(o).map(|o| o.id))
                    .transpose()?,
            },
        )?;
        sites.push((s.key.clone(), v));
    }
    let site = |k: &str| {
        sites
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .ok_or(DemoError::Unknown("site", k.into()))
    };
    let mut logins = vec![(admin_user.username.clone(), "administrateur".to_owned())];
    let mut technicians: HashMap<String, Actor> = HashMap::new();
    let mut social_workers: HashMap<String, Actor> = HashMap::new();
    let mut coordinators: HashMap<RegionId, Actor> = HashMap::new();
    for u in fx.users.iter().filter(|u| u.role != Role::Admin) {
        let site_v = u.site.as_deref().map(site).transpose()?;
        let v = admin::create_user(
            conn,
            Some(&root),
            &NewUser {
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                role: u.role,
                password: Some(DEMO_PASSWORD.into()),
                badge: u.badge.clone(),
                site: site_v.as_ref().map(|s| s.id),
                region: u.region.as_deref().map(region).transpose()?,
                organisation: u
                    .organisation
                    .as_deref()
                    .map(|o| org(o).map(|o| o.id))
                    .transpose()?,
                language: u.language,
            },
        )?;
        if u.data_security {
            admin::update_user(
                conn,
                &root,
                v.id,
                &UpdateUser {
                    active: None,
                    language: None,
                    password: None,
                    badge: None,
                    display_name: None,
                    data_security: Some(true),
                },
            )?;
        }
        let what = match (&u.badge, u.role) {
            (Some(b), _) => format!("{} — badge {b}", u.display_name),
            (None, _) => u.display_name.clone(),
        };
        logins.push((v.username.clone(), what));
        let actor = actor_for(&v, u.language, site_v.as_ref().map(|s| s.region));
        match u.role {
            Role::Technician => {
                if let Some(s) = &u.site {
                    technicians.insert(s.clone(), actor);
                }
            }
            Role::Coordinator => {
                if let Some(r) = actor.region {
                    coordinators.insert(r, actor);
                }
            }
            Role::SocialWorker => {
                social_workers.insert(u.username.clone(), actor);
            }
            Role::Admin => {}
        }
    }
    let mut benches = Vec::new();
    let mut bench_ids = HashMap::new();
    for b in &fx.benches {
        let s = site(&b.site)?;
        let v = admin::create_bench_with_token(conn, s.id, &b.name, &b.token)?;
        bench_ids.insert(b.token.clone(), v.id);
        benches.push((b.token.clone(), b.name.clone()));
    }
    for p in &fx.printers {
        let bench = match &p.bench {
            Some(t) => Some(
                *bench_ids
                    .get(t)
                    .ok_or(DemoError::Unknown("bench", t.clone()))?,
            ),
            None => None,
        };
        crate::service::labels::create_printer(
            conn,
            &root,
            &filiere_shared::api::NewPrinter {
                site: site(&p.site)?.id,
                bench,
                name: p.name.clone(),
                kind: p.kind,
                address: p.address.clone(),
                dpi: p.dpi,
                media: p.media.clone(),
            },
        )?;
    }

    let mut generator = Generator {
        rng: StdRng::seed_from_u64(fx.seed),
        catalog: fx.catalog.clone(),
        start: Utc::now() - Duration::days(60),
        keys: 0,
        events: 0,
        items: 0,
    };
    let donors: Vec<OrganisationView> = orgs
        .values()
        .filter(|o| o.kind == OrgKind::Donor)
        .cloned()
        .collect();
    let recycler = orgs
        .values()
        .find(|o| o.kind == OrgKind::Recycler)
        .cloned()
        .ok_or(DemoError::Unknown("organisation", "recycler".into()))?;
    for (key, s) in &sites {
        let tech = technicians
            .get(key)
            .cloned()
            .ok_or(DemoError::Unknown("technician for site", key.clone()))?;
        let coord = coordinators
            .get(&s.region)
            .cloned()
            .unwrap_or_else(|| root.clone());
        generator.site(
            conn,
            s,
            &tech,
            &coord,
            &donors,
            &recycler,
            fx.items_per_site,
        )?;
    }
    donor::town_hall(
        conn,
        &mut generator,
        &site("lyon")?,
        &user_of("lyon", &technicians)?,
        &coordinators
            .get(&region("ARA")?)
            .cloned()
            .ok_or(DemoError::Unknown("coordinator of", "ARA".into()))?,
        &org("metropole")?,
    )?;
    let venues: HashMap<String, OrgId> = orgs
        .iter()
        .filter(|(_, o)| o.kind == OrgKind::TrainingVenue)
        .map(|(k, o)| (k.clone(), o.id))
        .collect();
    let social = social::load(conn, &social_workers, &coordinators, &venues)?;
    let user = user_of;
    let coordinator = |a: &Actor| {
        a.region
            .and_then(|r| coordinators.get(&r).cloned())
            .ok_or(DemoError::Unknown("coordinator of", a.name.clone()))
    };
    let (sophie, nadia, paul) = (
        user("sophie", &social_workers)?,
        user("nadia", &social_workers)?,
        user("paul", &social_workers)?,
    );
    let sold = sales::load(
        conn,
        &sales::Actors {
            claire: &coordinator(&sophie)?,
            yann: &coordinator(&paul)?,
            sophie: &sophie,
            nadia: &nadia,
            paul: &paul,
            tom: &user("lyon", &technicians)?,
            malik: &user("montreuil", &technicians)?,
            epn: *venues
                .get("epn")
                .ok_or(DemoError::Unknown("training venue", "epn".into()))?,
            entraide: org("entraide")?.id,
        },
    )?;
    offers::load(conn, &coordinator(&sophie)?, &coordinator(&paul)?)?;
    Ok(Summary {
        items: generator.items,
        events: generator.events,
        beneficiaries: diesel::RunQueryDsl::get_result::<i64>(
            diesel::QueryDsl::count(crate::schema::beneficiaries::table),
            conn,
        )? as usize,
        reservations: social.reservations,
        sessions: social.sessions,
        sales: sold,
        logins,
        benches,
    })
}

struct Generator {
    rng: StdRng,
    catalog: Vec<FxModel>,
    start: DateTime<Utc>,
    keys: u64,
    events: usize,
    items: usize,
}

/// What the demo takes a device to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Collected,
    Received,
    Refurbishing,
    Ready,
    Harvesting,
    Harvested,
    ToRecycle,
    Recycled,
}

impl Generator {
    fn key(&mut self) -> String {
        self.keys += 1;
        format!("demo-{}", self.keys)
    }

    fn serial(&mut self, prefix: &str) -> String {
        let n: u64 = self.rng.random_range(10_000_000..99_999_999);
        format!("{prefix}{n}")
    }

    fn ev(
        &mut self,
        conn: &mut DbConnection,
        actor: &Actor,
        item: &mut ItemView,
        at: &mut DateTime<Utc>,
        command: Command,
    ) -> ApiResult<EventResponse> {
        *at += Duration::minutes(self.rng.random_range(10..600));
        let req = EventRequest {
            idempotency_key: self.key(),
            expected_version: item.version,
            occurred_at: Some(*at),
            command,
        };
        let r = events::apply(conn, actor, item.id, &req)?;
        self.events += 1;
        *item = r.item.clone();
        Ok(r)
    }

    #[allow(clippy::too_many_arguments)]
    fn site(
        &mut self,
        conn: &mut DbConnection,
        site: &SiteView,
        tech: &Actor,
        coord: &Actor,
        donors: &[OrganisationView],
        recycler: &OrganisationView,
        count: usize,
    ) -> ApiResult<()> {
        let mut cols = Vec::new();
        for i in 0..3 {
            let donor = &donors[(i + site.id.0 as usize) % donors.len()];
            let waste = i == 2;
            let date = (self.start + Duration::days(i as i64 * 15)).date_naive();
            cols.push(collections::create(
                conn,
                coord,
                &NewCollection {
                    donor: donor.id,
                    site: site.id,
                    pickup_date: date,
                    pickup_address: donor.address.clone(),
                    declared_count: (count / 3) as i32 + 2,
                    declared_weight_g: Some((count as i64 / 3) * 2_500),
                    legal_status: if waste {
                        LegalStatus::Waste
                    } else {
                        LegalStatus::Reuse
                    },
                    waste_code: waste.then(|| "16 02 14".to_owned()),
                    reference: Some(format!("ENL-{}-{:03}", site.id, i + 1)),
                    notes: None,
                },
            )?);
        }
        let batch = labels::allocate(
            conn,
            tech,
            &NewLabelBatch {
                site: site.id,
                count: (count * 3) as i32,
                bench: None,
            },
        )?;
        let mut codes = batch.codes.into_iter();
        let mut next_code = move || {
            codes
                .next()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default()
        };
        let weee_open = weee::open(
            conn,
            tech,
            &NewWeeeBatch {
                site: site.id,
                recycler: recycler.id,
                notes: None,
            },
        )?;
        let weee_done = weee::open(
            conn,
            tech,
            &NewWeeeBatch {
                site: site.id,
                recycler: recycler.id,
                notes: Some("Enlèvement mensuel".into()),
            },
        )?;
        let plan = [
            (Target::Collected, 8),
            (Target::Received, 10),
            (Target::Refurbishing, 18),
            (Target::Ready, 28),
            (Target::Harvesting, 8),
            (Target::Harvested, 10),
            (Target::ToRecycle, 9),
            (Target::Recycled, 9),
        ];
        let total: usize = plan.iter().map(|(_, w)| w).sum();
        let mut spare_parts: Vec<ItemView> = Vec::new();
        let mut refurbishing: Vec<ItemView> = Vec::new();
        for i in 0..count {
            let mut pick = i * total / count;
            let target = plan
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .map(|(t, _)| *t)
                .unwrap_or(Target::Ready);
            let model = self.catalog[self.rng.random_range(0..self.catalog.len())].clone();
            let col = &cols[i % cols.len()];
            let mut at =
                self.start + Duration::days(self.rng.random_range(0..45)) + Duration::hours(8);
            let has_drive = model.drive_bus.is_some();
            let drives: Vec<DriveSpec> = if has_drive && target != Target::Collected {
                vec![DriveSpec {
                    serial: self.serial("S"),
                    make: model.drive_make.clone(),
                    model: model.drive_model.clone(),
                    size_gb: model.storage_gb,
                    bus: model.drive_bus,
                    media: model.drive_media,
                }]
            } else {
                Vec::new()
            };
            let weighed = self.rng.random_bool(0.7);
            let reg = RegisterItem {
                idempotency_key: self.key(),
                code: next_code(),
                category: model.category,
                site: Some(site.id),
                collection: Some(col.id),
                at_workshop: target != Target::Collected,
                brand: Some(model.brand.clone()),
                model: Some(model.model.clone()),
                serial: Some(self.serial("PF")),
                asset_tag: Some(format!("INV-{:05}", self.rng.random_range(1..99_999))),
                specs: Specs {
                    cpu: model.cpu.clone(),
                    ram_gb: model.ram_gb,
                    storage_gb: model.storage_gb,
                    storage_type: model.storage_type.clone(),
                    screen_inches: model.screen_inches,
                    ..Specs::default()
                },
                weight_g: Some(if weighed {
                    model.weight_g + self.rng.random_range(-80..80)
                } else {
                    model.weight_g
                }),
                weight_estimated: !weighed,
                no_drive: !has_drive && target != Target::Collected,
                drives: drives.clone(),
                occurred_at: Some(at),
            };
            let mut item = events::register(conn, tech, &reg)?.item;
            self.items += 1;
            self.events += 1 + usize::from(!drives.is_empty() || reg.no_drive);
            let t = tech;
            match target {
                Target::Collected | Target::Received => {}
                Target::Refurbishing | Target::Ready => {
                    self.ev(
                        conn,
                        t,
                        &mut item,
                        &mut at,
                        Command::Triage {
                            route: Route::Refurbish,
                        },
                    )?;
                    let stage = self.rng.random_range(0..3);
                    if target == Target::Ready || stage >= 1 {
                        for d in &drives {
                            let erasure = self.erasure(at, d, true);
                            self.ev(
                                conn,
                                t,
                                &mut item,
                                &mut at,
                                Command::EraseDrive {
                                    serial: d.serial.clone(),
                                    erasure,
                                },
                            )?;
                        }
                    }
                    if target == Target::Ready || stage >= 2 {
                        let report = self.qa(model.category);
                        self.ev(conn, t, &mut item, &mut at, Command::QaTest { report })?;
                    }
                    if target == Target::Ready {
                        self.ev(conn, t, &mut item, &mut at, Command::MarkReady)?;
                    } else {
                        refurbishing.push(item.clone());
                    }
                }
                Target::Harvesting | Target::Harvested => {
                    self.ev(
                        conn,
                        t,
                        &mut item,
                        &mut at,
                        Command::Triage {
                            route: Route::Harvest,
                        },
                    )?;
                    let mut parts = Vec::new();
                    if matches!(
                        model.category,
                        Category::Laptop | Category::Desktop | Category::AllInOne
                    ) {
                        let spec = format!("{} GB DDR4", model.ram_gb.unwrap_or(4).min(8));
                        let r = self.ev(
                            conn,
                            t,
                            &mut item,
                            &mut at,
                            Command::HarvestPart {
                                code: next_code(),
                                category: Category::Ram,
                                brand: Some("Samsung".into()),
                                model: None,
                                serial: None,
                                specs: Specs {
                                    part_spec: Some(spec),
                                    ram_gb: Some(model.ram_gb.unwrap_or(4).min(8)),
                                    ..Specs::default()
                                },
                                weight_g: Some(10),
                                drive_serial: None,
                            },
                        )?;
                        parts.extend(r.other);
                    }
                    for d in &drives {
                        if self.rng.random_bool(0.75) {
                            let ok = self.rng.random_bool(0.9);
                            let erasure = self.erasure(at, d, ok);
                            self.ev(
                                conn,
                                t,
                                &mut item,
                                &mut at,
                                Command::EraseDrive {
                                    serial: d.serial.clone(),
                                    erasure,
                                },
                            )?;
                        }
                        let erased = item
                            .drives
                            .iter()
                            .any(|x| x.serial == d.serial && x.status == DriveStatus::Erased);
                        if erased {
                            let category = if d.media == Some(DriveMedia::Hdd) {
                                Category::Hdd
                            } else if d.bus == Some(DriveBus::Nvme) {
                                Category::Nvme
                            } else {
                                Category::Ssd
                            };
                            let r = self.ev(
                                conn,
                                t,
                                &mut item,
                                &mut at,
                                Command::HarvestPart {
                                    code: next_code(),
                                    category,
                                    brand: d.make.clone(),
                                    model: d.model.clone(),
                                    serial: None,
                                    specs: Specs {
                                        storage_gb: d.size_gb,
                                        part_spec: d.size_gb.map(|s| format!("{s} GB")),
                                        ..Specs::default()
                                    },
                                    weight_g: Some(60),
                                    drive_serial: Some(d.serial.clone()),
                                },
                            )?;
                            parts.extend(r.other);
                        } else if target == Target::Harvested {
                            self.ev(
                                conn,
                                t,
                                &mut item,
                                &mut at,
                                Command::DestroyDrive {
                                    serial: d.serial.clone(),
                                    method: "Broyage (broyeur à disques)".into(),
                                    notes: None,
                                },
                            )?;
                        }
                    }
                    for mut p in parts {
                        let mut pat = at;
                        match self.rng.random_range(0..4) {
                            0 => {}
                            1 => {
                                self.ev(
                                    conn,
                                    t,
                                    &mut p,
                                    &mut pat,
                                    Command::TestPart {
                                        result: PartTestResult::Faulty,
                                        notes: Some("Erreurs au test mémoire".into()),
                                    },
                                )?;
                            }
                            _ => {
                                self.ev(
                                    conn,
                                    t,
                                    &mut p,
                                    &mut pat,
                                    Command::TestPart {
                                        result: PartTestResult::Good,
                                        notes: None,
                                    },
                                )?;
                                spare_parts.push(p);
                            }
                        }
                    }
                    if target == Target::Harvested
                        && item.drives.iter().all(|d| d.status.is_sanitised())
                    {
                        self.ev(conn, t, &mut item, &mut at, Command::FinishTeardown)?;
                    }
                }
                Target::ToRecycle | Target::Recycled => {
                    self.ev(
                        conn,
                        t,
                        &mut item,
                        &mut at,
                        Command::Triage {
                            route: Route::Recycle,
                        },
                    )?;
                    for d in &drives {
                        self.ev(
                            conn,
                            t,
                            &mut item,
                            &mut at,
                            Command::DestroyDrive {
                                serial: d.serial.clone(),
                                method: "Perforation".into(),
                                notes: None,
                            },
                        )?;
                    }
                    let batch = if target == Target::Recycled {
                        weee_done.id
                    } else {
                        weee_open.id
                    };
                    if target == Target::Recycled || self.rng.random_bool(0.6) {
                        self.ev(
                            conn,
                            t,
                            &mut item,
                            &mut at,
                            Command::AddToWeeeBatch { batch },
                        )?;
                    }
                }
            }
        }
        // Fit some tested parts into refurbishing devices of the same site.
        for device in refurbishing.iter_mut().take(6) {
            let Some(pos) = spare_parts.iter().position(|p| !p.category.is_drive()) else {
                break;
            };
            let part = spare_parts.remove(pos);
            let mut at = Utc::now() - Duration::days(2);
            self.ev(
                conn,
                tech,
                device,
                &mut at,
                Command::FitPart {
                    part: part.id,
                    part_expected_version: part.version,
                },
            )?;
        }
        // One spare drive fitted into a desktop, one part sent to recycling.
        if let Some(p) = spare_parts.pop() {
            let mut p = p;
            let mut at = Utc::now() - Duration::days(1);
            self.ev(conn, tech, &mut p, &mut at, Command::MarkForRecycling)?;
        }
        weee::close(
            conn,
            tech,
            weee_done.id,
            &CloseWeeeBatch { weight_g: 48_500 },
        )?;
        weee::hand_over(
            conn,
            tech,
            weee_done.id,
            &HandOverWeeeBatch {
                waste_form_ref: format!("BSD-2026-{:06}", 1000 + site.id.0),
                handed_over_at: None,
            },
        )?;
        Ok(())
    }

    fn erasure(&mut self, at: DateTime<Utc>, d: &DriveSpec, ok: bool) -> ErasureData {
        let nvme = d.bus == Some(DriveBus::Nvme);
        let hdd = d.media == Some(DriveMedia::Hdd);
        let minutes = if hdd {
            self.rng.random_range(60..240)
        } else {
            self.rng.random_range(2..20)
        };
        // What a workshop uses on each kind of drive.
        let (technique, tool, version, method) = if hdd {
            (ErasureTechnique::Overwrite, "nwipe", "0.36", "PRNG stream")
        } else if nvme {
            (
                ErasureTechnique::CryptoErase,
                "nvme-cli",
                "2.8",
                "sanitize --sanact=4",
            )
        } else {
            (
                ErasureTechnique::FirmwareSanitize,
                "hdparm",
                "9.65",
                "security-erase-enhanced",
            )
        };
        ErasureData {
            level: if hdd {
                NistLevel::Clear
            } else {
                NistLevel::Purge
            },
            technique,
            tool: tool.into(),
            tool_version: Some(version.into()),
            method: Some(method.into()),
            passes: Some(1),
            verified: true,
            started_at: at,
            ended_at: at + Duration::minutes(minutes),
            result: if ok {
                ErasureResult::Erased
            } else {
                ErasureResult::Failed
            },
            report: None,
        }
    }

    fn qa(&mut self, category: Category) -> QaData {
        let checks: &[QaCheck] = match category {
            Category::Laptop => &[
                QaCheck::Boot,
                QaCheck::Keyboard,
                QaCheck::Touchpad,
                QaCheck::Screen,
                QaCheck::Usb,
                QaCheck::Wifi,
                QaCheck::Webcam,
                QaCheck::Audio,
                QaCheck::Battery,
                QaCheck::Charger,
            ],
            Category::Desktop => &[
                QaCheck::Boot,
                QaCheck::Usb,
                QaCheck::Ethernet,
                QaCheck::Audio,
                QaCheck::Memory,
                QaCheck::Storage,
            ],
            Category::AllInOne => &[
                QaCheck::Boot,
                QaCheck::Screen,
                QaCheck::Usb,
                QaCheck::Wifi,
                QaCheck::Webcam,
                QaCheck::Audio,
            ],
            Category::Monitor => &[QaCheck::Boot, QaCheck::Screen, QaCheck::Ports],
            _ => &[
                QaCheck::Boot,
                QaCheck::Screen,
                QaCheck::Wifi,
                QaCheck::Battery,
                QaCheck::Audio,
            ],
        };
        let grades = [Grade::A, Grade::B, Grade::B, Grade::C];
        QaData {
            checks: checks
                .iter()
                .map(|c| QaLine {
                    check: *c,
                    outcome: QaOutcome::Pass,
                    note: None,
                })
                .collect(),
            os_installed: match category {
                Category::Laptop | Category::Desktop | Category::AllInOne => {
                    Some("Emmabuntüs DE5".into())
                }
                Category::Tablet | Category::Phone => Some("/e/OS 2.4".into()),
                _ => None,
            },
            functional_grade: Some(grades[self.rng.random_range(0..2)]),
            cosmetic_grade: Some(grades[self.rng.random_range(0..4)]),
            notes: None,
        }
    }
}
