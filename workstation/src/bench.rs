//! The bench's state and what a scan or a key does to it, apart from drawing: every
//! action is checked against the rules of `shared`, written to the journal, shown at
//! once as the bench predicts it, and corrected by the server's answer when it comes.

use crate::journal::{Journal, JournalError, Outcome};
use crate::net::{Net, NetError, Reply, Request};
use crate::settings::{Settings, Station};
use crate::tr;
use filiere_shared::api::*;
use filiere_shared::code::{Scan, parse_scan};
use filiere_shared::error::ErrorBody;
use filiere_shared::lifecycle::{self, DriveSpec, EventPayload, Lifecycle, Refusal};
use filiere_shared::names::Named;
use filiere_shared::*;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Codes the bench keeps for labelling parts offline.
pub const OWN_CODES_LOW: usize = 20;
pub const OWN_CODES_BLOCK: i32 = 50;

/// An item as the bench knows it: the server's last view with the bench's own
/// actions applied on top, until the server answers them.
#[derive(Debug, Clone)]
pub struct Known {
    pub view: ItemView,
    /// Actions journaled and not yet answered.
    pub pending: usize,
    /// The server refused an action on this item: shown until the item is scanned again.
    pub refused: Option<ErrorBody>,
    /// Last steps, newest first: (what, when, sent).
    pub recent: Vec<Recent>,
}

#[derive(Debug, Clone)]
pub struct Recent {
    pub what: Step,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Accepted by the server (else waiting in the journal).
    pub confirmed: bool,
}

/// A step the bench made, named on screen in the current language.
#[derive(Debug, Clone)]
pub enum Step {
    Registered,
    Command(Box<Command>),
}

impl Step {
    pub fn name(&self, lang: Lang) -> String {
        match self {
            Step::Registered => {
                tr(lang, "Enregistré et reçu", "Registered and received").to_owned()
            }
            Step::Command(c) => command_name(c, lang),
        }
    }
}

/// A message across the top of the screen; a refusal flashes red and beeps.
#[derive(Debug, Clone)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub since: Instant,
}

/// What the main area shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Focus {
    Nothing,
    /// An item (by id; bench-registered items have negative ids until the server
    /// answers).
    Item(ItemId),
    /// A fresh code, to register at reception.
    Intake(LabelCode),
    /// Several items matched a serial or asset tag.
    Matches(Vec<ItemId>),
}

/// The last action, for the undo key.
#[derive(Debug, Clone)]
pub struct Undoable {
    pub item: ItemId,
    pub seq: u64,
    pub event: Option<EventId>,
    pub correctable: bool,
}

/// Filled by the reception form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Intake {
    pub category: Option<Category>,
    pub brand: String,
    pub model: String,
    pub serial: String,
    pub asset_tag: String,
    pub weight_kg: String,
    /// One serial per line.
    pub drives: String,
    pub no_drive: bool,
}

/// What a part harvested at this bench waits for.
#[derive(Debug, Clone, PartialEq)]
pub struct Harvested {
    pub code: LabelCode,
    pub category: Category,
    pub device: ItemId,
    /// The technician scanned the printed label.
    pub confirmed: bool,
    /// Sent to the printer (once the server has registered the part).
    pub printed: bool,
}

pub struct Bench {
    pub dir: PathBuf,
    pub settings: Settings,
    pub session: Option<SessionResponse>,
    pub net: Net,
    pub journal: Arc<Mutex<Journal>>,
    pub items: HashMap<ItemId, Known>,
    codes: HashMap<LabelCode, ItemId>,
    next_local_id: i64,
    pub focus: Focus,
    /// For a repair: the device parts are fitted into.
    pub device: Option<ItemId>,
    pub flash: Option<Flash>,
    pub waiting: usize,
    pub online: Option<bool>,
    pub collections: Vec<CollectionView>,
    pub collection: Option<CollectionId>,
    /// Registered here per collection, for the live count before the server answers.
    pub registered_here: HashMap<CollectionId, i64>,
    pub weee: Vec<WeeeBatchView>,
    pub weee_batch: Option<WeeeBatchId>,
    pub weee_added_g: HashMap<WeeeBatchId, i64>,
    pub printers: Vec<PrinterView>,
    pub own_codes: VecDeque<LabelCode>,
    codes_asked: bool,
    pub last_intake: HashMap<Option<CollectionId>, Intake>,
    pub harvested: Vec<Harvested>,
    pub undo: Option<Undoable>,
    pub history: HashMap<ItemId, HistoryView>,
    /// Time from a scan's Enter to its item on screen, for the last scan.
    pub last_scan_to_screen: Option<(std::time::Duration, bool)>,
    /// A refusal to sound (taken by the screen).
    pub beep: bool,
    /// Labels to print once the server is reachable again.
    pub pending_prints: Vec<PrintRequest>,
    /// The next fresh label scanned replaces this item's lost one.
    pub relabel: Option<ItemId>,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("network thread: {0}")]
    Net(#[from] std::io::Error),
}

const OWN_CODES_FILE: &str = "codes.json";

impl Bench {
    /// Opens the bench's journal in `dir` and starts its network thread.
    pub fn open(
        dir: &Path,
        settings: Settings,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Bench, BenchError> {
        std::fs::create_dir_all(dir).map_err(|source| JournalError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        // A limit further back than dates go keeps everything.
        let before = chrono::Utc::now()
            .checked_sub_signed(chrono::Duration::days(settings.journal_keep_days.into()));
        let (journal, _archived) = Journal::open_archiving(dir.join("journal.jsonl"), before)?;
        let journal = Arc::new(Mutex::new(journal));
        let waiting = lock(&journal).waiting();
        let net = Net::start(
            &settings.server,
            &settings.bench_token,
            journal.clone(),
            repaint,
        )?;
        let own_codes = std::fs::read(dir.join(OWN_CODES_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<VecDeque<LabelCode>>(&b).ok())
            .unwrap_or_default();
        Ok(Bench {
            dir: dir.to_path_buf(),
            settings,
            session: None,
            net,
            journal,
            items: HashMap::new(),
            codes: HashMap::new(),
            next_local_id: -1,
            focus: Focus::Nothing,
            device: None,
            flash: None,
            waiting,
            online: None,
            collections: Vec::new(),
            collection: None,
            registered_here: HashMap::new(),
            weee: Vec::new(),
            weee_batch: None,
            weee_added_g: HashMap::new(),
            printers: Vec::new(),
            own_codes,
            codes_asked: false,
            last_intake: HashMap::new(),
            harvested: Vec::new(),
            undo: None,
            history: HashMap::new(),
            last_scan_to_screen: None,
            beep: false,
            pending_prints: Vec::new(),
            relabel: None,
        })
    }

    pub fn lang(&self) -> Lang {
        self.settings.lang
    }

    fn t(&self, fr: &'static str, en: &'static str) -> &'static str {
        tr(self.lang(), fr, en)
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: false,
            since: Instant::now(),
        });
    }

    pub fn refuse(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: true,
            since: Instant::now(),
        });
        self.beep = true;
    }

    pub fn known(&self, id: ItemId) -> Option<&Known> {
        self.items.get(&id)
    }

    pub fn current(&self) -> Option<&Known> {
        match self.focus {
            Focus::Item(id) => self.items.get(&id),
            _ => None,
        }
    }

    pub fn by_code(&self, code: LabelCode) -> Option<ItemId> {
        self.codes.get(&code).copied()
    }

    // ------------------------------------------------------------------ input

    /// A burst the scanner captured (a code, a label URL or a badge), wherever the
    /// focus was. `at` is when its Enter arrived.
    pub fn scanned(&mut self, scan: Scan, azerty_recovered: bool, at: Instant) {
        if azerty_recovered {
            self.info(self.t(
                "Code lu en disposition QWERTY et corrigé : réglez la douchette en AZERTY.",
                "Code read with a QWERTY layout and corrected: set the scanner to AZERTY.",
            ));
        }
        match scan {
            Scan::Badge(b) => {
                self.net.send(Request::SignIn { badge: b.as_str() });
                self.info(self.t("Badge lu, connexion…", "Badge read, signing in…"));
            }
            Scan::Label(code) => {
                if self.session.is_none() {
                    self.refuse(self.t("Scannez d'abord votre badge.", "Scan your badge first."));
                    return;
                }
                self.label(code, at);
            }
        }
    }

    /// Text typed or scanned into the search box: a code, or a serial / asset tag.
    pub fn search(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        match parse_scan(text) {
            Ok(p) => self.scanned(p.value, p.azerty_recovered, Instant::now()),
            Err(_) => self.net.send(Request::Resolve {
                text: text.to_owned(),
                asked: Instant::now(),
            }),
        }
    }

    /// Arms the replacement of the lost label of the item on screen: the next fresh
    /// label scanned becomes its label.
    pub fn start_relabel(&mut self) {
        match self.focus {
            Focus::Item(id) => {
                self.relabel = Some(id);
                self.info(self.t(
                    "Nouvelle étiquette : scannez une étiquette vierge.",
                    "New label: scan a blank label.",
                ));
            }
            _ => self.refuse(self.t(
                "Scannez d'abord l'article (ou cherchez-le par n° de série).",
                "Scan the item first (or find it by serial number).",
            )),
        }
    }

    fn label(&mut self, code: LabelCode, at: Instant) {
        if let Some(item) = self.relabel.take() {
            if self.by_code(code).is_some() {
                self.refuse(self.t(
                    "Cette étiquette est déjà sur un article : prenez une étiquette vierge.",
                    "This label is already on an item: take a blank one.",
                ));
                return;
            }
            if self.act(
                item,
                Command::Relabel {
                    new_code: code.as_str().to_owned(),
                },
            ) {
                self.codes.insert(code, item);
                if let Some(k) = self.items.get_mut(&item) {
                    let old = k.view.code;
                    k.view.previous_codes.push(old);
                    k.view.code = code;
                }
            }
            return;
        }
        // A part label just printed here, scanned to confirm it is on the part.
        if let Some(h) = self
            .harvested
            .iter_mut()
            .find(|h| h.code == code && !h.confirmed)
        {
            h.confirmed = true;
            let msg = format!(
                "{} {}",
                tr(
                    self.settings.lang,
                    "Étiquette confirmée :",
                    "Label confirmed:"
                ),
                code.hyphenated()
            );
            self.info(msg);
        }
        if let Some(id) = self.by_code(code) {
            // Known: on screen this frame; refreshed in the background when nothing
            // of ours waits on it.
            self.show(id, at, true);
            if self
                .items
                .get(&id)
                .is_some_and(|k| k.pending == 0 && id.0 > 0)
            {
                self.net.send(Request::Resolve {
                    text: code.as_str().to_owned(),
                    asked: at,
                });
            }
            return;
        }
        self.net.send(Request::Resolve {
            text: code.as_str().to_owned(),
            asked: at,
        });
    }

    /// Puts an item on screen, and takes the station's step that follows a scan.
    fn show(&mut self, id: ItemId, at: Instant, cached: bool) {
        self.last_scan_to_screen = Some((at.elapsed(), cached));
        if let Some(k) = self.items.get_mut(&id) {
            k.refused = None;
        }
        let Some(view) = self.items.get(&id).map(|k| k.view.clone()) else {
            return;
        };
        // At the repair bench a part scanned after a device is for that device.
        if self.settings.station == Station::Repair
            && view.kind == ItemKind::Part
            && self.device.is_some()
        {
            self.focus = Focus::Item(id);
            return;
        }
        if view.kind == ItemKind::Device {
            self.device = Some(id);
        }
        self.focus = Focus::Item(id);
        if id.0 > 0 && !self.history.contains_key(&id) {
            self.net.send(Request::History { id });
        }
    }

    // ------------------------------------------------------------------ replies

    /// Takes what the network thread sent; called once per frame.
    pub fn poll(&mut self) {
        for reply in self.net.poll() {
            self.reply(reply);
        }
        self.waiting = lock(&self.journal).waiting();
    }

    fn reply(&mut self, reply: Reply) {
        match reply {
            Reply::SignedIn(Ok(s)) => {
                self.net.set_token(Some(s.token.clone()));
                if s.user.language != self.settings.lang {
                    self.settings.lang = s.user.language;
                }
                let msg = format!("{} {}", self.t("Bonjour", "Hello"), s.user.display_name);
                self.session = Some(s);
                self.online = Some(true);
                self.info(msg);
                self.net.send(Request::Collections);
                self.net.send(Request::WeeeBatches);
                self.net.send(Request::Printers);
                self.top_up_codes();
            }
            Reply::SignedIn(Err(e)) => {
                let msg = format!("{} {e}", self.t("Connexion refusée :", "Sign-in refused:"));
                self.net_error(&e);
                self.refuse(msg);
            }
            Reply::SessionEnded => {
                self.session = None;
                self.net.set_token(None);
                self.info(self.t(
                    "Session terminée : scannez votre badge.",
                    "Session ended: scan your badge.",
                ));
            }
            Reply::Resolved {
                text,
                asked,
                result,
            } => self.resolved(&text, asked, result),
            Reply::Item(Ok(view)) => {
                self.online = Some(true);
                self.learn(view);
            }
            Reply::Item(Err(e)) => self.net_error(&e),
            Reply::History(Ok(h)) => {
                self.history.insert(h.item, h);
            }
            Reply::History(Err(e)) => self.net_error(&e),
            Reply::Collections(Ok(c)) => {
                self.collections = c;
                if self.collection.is_none() {
                    self.collection = self
                        .collections
                        .iter()
                        .filter(|c| c.received_count < c.declared_count.into())
                        .map(|c| c.id)
                        .next_back();
                }
            }
            Reply::WeeeBatches(Ok(w)) => {
                self.weee = w;
                if self.weee_batch.is_none() {
                    self.weee_batch = self
                        .weee
                        .iter()
                        .find(|b| b.status == WeeeBatchStatus::Open)
                        .map(|b| b.id);
                }
            }
            Reply::Printers(Ok(p)) => {
                self.printers = p;
                if self.settings.printer.is_none() {
                    let bench = self
                        .session
                        .as_ref()
                        .and_then(|s| s.bench.as_ref())
                        .map(|b| b.id);
                    self.settings.printer = self
                        .printers
                        .iter()
                        .find(|p| p.bench.is_some() && p.bench == bench)
                        .or(self.printers.first())
                        .map(|p| p.id);
                }
            }
            Reply::Codes(Ok(batch)) => {
                self.codes_asked = false;
                self.own_codes.extend(batch.codes);
                self.save_codes();
            }
            Reply::Codes(Err(e)) => {
                self.codes_asked = false;
                self.net_error(&e);
            }
            Reply::Printed { result: Ok(p), .. } => {
                let msg = format!(
                    "{} ({})",
                    self.t("Étiquette imprimée", "Label printed"),
                    p.labels
                );
                self.info(msg);
            }
            Reply::Printed {
                request,
                result: Err(NetError::Unreachable(_)),
            } => {
                self.online = Some(false);
                self.pending_prints.push(request);
                self.info(self.t(
                    "Hors ligne : l'étiquette sera imprimée au retour du réseau.",
                    "Offline: the label will be printed when the network is back.",
                ));
            }
            Reply::PrintedDirect(Ok(())) => {
                self.info(self.t(
                    "Étiquette imprimée par le poste (serveur injoignable).",
                    "Label printed by the bench (server unreachable).",
                ));
            }
            Reply::PrintedDirect(Err(e)) => {
                let msg = format!("{} {e}", self.t("Impression impossible :", "Cannot print:"));
                self.refuse(msg);
            }
            Reply::Printed { result: Err(e), .. } => {
                let msg = format!("{} {e}", self.t("Impression impossible :", "Cannot print:"));
                self.refuse(msg);
            }
            Reply::Collections(Err(e)) | Reply::WeeeBatches(Err(e)) | Reply::Printers(Err(e)) => {
                self.net_error(&e)
            }
            Reply::Synced(settled) => {
                self.online = Some(true);
                // Back online: labels that could not be printed go now.
                for request in std::mem::take(&mut self.pending_prints) {
                    self.net.send(Request::Print { request });
                }
                for s in settled {
                    self.settled(s);
                }
            }
            Reply::Offline(_) => self.online = Some(false),
        }
    }

    fn net_error(&mut self, e: &NetError) {
        if matches!(e, NetError::Unreachable(_)) {
            self.online = Some(false);
        }
    }

    fn resolved(&mut self, text: &str, asked: Instant, result: Result<Resolved, NetError>) {
        match result {
            Ok(Resolved::Item { item, replaced, .. }) => {
                self.online = Some(true);
                let id = item.id;
                self.learn(*item);
                if replaced {
                    self.info(self.t(
                        "Ancienne étiquette : cet appareil en a reçu une nouvelle.",
                        "Old label: this item was given a new one.",
                    ));
                }
                // A background refresh of what is already on screen does not move it.
                if self.focus != Focus::Item(id) {
                    self.show(id, asked, false);
                } else if self.last_scan_to_screen.is_none() {
                    self.last_scan_to_screen = Some((asked.elapsed(), false));
                }
            }
            Ok(Resolved::UnclaimedCode { code, .. }) => {
                self.online = Some(true);
                self.last_scan_to_screen = Some((asked.elapsed(), false));
                self.unclaimed(code);
            }
            Ok(Resolved::Matches { items }) => {
                self.online = Some(true);
                let ids: Vec<ItemId> = items.iter().map(|i| i.id).collect();
                for i in items {
                    self.learn(i);
                }
                match ids.as_slice() {
                    [] => {
                        let msg = format!(
                            "{} « {text} »",
                            self.t("Rien trouvé pour", "Nothing found for")
                        );
                        self.refuse(msg);
                    }
                    [one] => self.show(*one, asked, false),
                    _ => self.focus = Focus::Matches(ids),
                }
            }
            Ok(Resolved::SaleItem { .. }) => {}
            Err(NetError::Unreachable(_))
                if LabelCode::parse(text).is_ok_and(|c| self.by_code(c).is_some()) =>
            {
                // A background refresh of an item already on screen: it stays as known.
                self.online = Some(false);
            }
            Err(NetError::Unreachable(_)) => {
                self.online = Some(false);
                // Offline: a fresh code can still be registered at reception; the
                // server checks it when the journal is sent.
                match LabelCode::parse(text) {
                    Ok(code) if self.settings.station == Station::Reception => {
                        self.unclaimed(code);
                        self.info(self.t(
                            "Hors ligne : code inconnu du poste, enregistré comme nouvel appareil.",
                            "Offline: code unknown to this bench, registered as a new item.",
                        ));
                    }
                    _ => self.refuse(self.t(
                        "Hors ligne : cet article n'est pas encore connu du poste.",
                        "Offline: this item is not known to this bench yet.",
                    )),
                }
            }
            Err(NetError::Refused { error, .. }) => self.refuse(error.message),
        }
    }

    fn unclaimed(&mut self, code: LabelCode) {
        match self.settings.station {
            Station::Reception => self.focus = Focus::Intake(code),
            _ => {
                let msg = format!(
                    "{} {}",
                    code.hyphenated(),
                    self.t(
                        "n'est encore sur aucun article (enregistrement : poste Réception).",
                        "is on no item yet (registration: Reception station)."
                    )
                );
                self.refuse(msg);
            }
        }
    }

    /// Takes the server's view of an item, unless actions of ours still wait on it.
    fn learn(&mut self, view: ItemView) {
        let id = view.id;
        for c in std::iter::once(view.code).chain(view.previous_codes.iter().copied()) {
            self.codes.insert(c, id);
        }
        match self.items.get_mut(&id) {
            Some(k) if k.pending > 0 => {}
            Some(k) => k.view = view,
            None => {
                self.items.insert(
                    id,
                    Known {
                        view,
                        pending: 0,
                        refused: None,
                        recent: Vec::new(),
                    },
                );
            }
        }
    }

    fn settled(&mut self, s: crate::sync::Settled) {
        let (item_key, local_code) = match &s.entry.op {
            BatchOp::Register(r) => (None, LabelCode::parse(&r.code).ok()),
            BatchOp::Event { item, .. } => (Some(item.clone()), None),
        };
        let id = match (&item_key, local_code) {
            (Some(ItemRef::Code(c)), _) => LabelCode::parse(c).ok().and_then(|c| self.by_code(c)),
            (Some(ItemRef::Id(id)), _) => Some(*id),
            (None, Some(code)) => self.by_code(code),
            _ => None,
        };
        let Some(id) = id else { return };
        // A registration answered: the item takes the server's id.
        let id = match (&s.answer, id.0 < 0) {
            (Some(a), true) => self.rename(id, a.item.id),
            _ => id,
        };
        if let Some(u) = self.undo.as_mut().filter(|u| u.seq == s.entry.seq) {
            u.item = id;
            u.event = s.answer.as_ref().map(|a| a.event.id);
        }
        if let Some(other) = s.answer.as_ref().and_then(|a| a.other.clone()) {
            self.settle_other(other);
        }
        let Some(k) = self.items.get_mut(&id) else {
            return;
        };
        k.pending = k.pending.saturating_sub(1);
        let relabelled = matches!(
            &s.entry.op,
            BatchOp::Event { request, .. } if matches!(request.command, Command::Relabel { .. })
        );
        match s.outcome {
            Outcome::Accepted => {
                if let Some(r) = k.recent.iter_mut().rev().find(|r| !r.confirmed) {
                    r.confirmed = true;
                }
                if relabelled {
                    // The new label, printed once the server knows it.
                    let template = match k.view.kind {
                        ItemKind::Device => "intake",
                        ItemKind::Part => "part",
                    };
                    self.print(LabelSource::Item(id), template);
                    if let Some(k) = self.items.get_mut(&id)
                        && let Some(a) = &s.answer
                        && k.pending == 0
                    {
                        k.view = a.item.clone();
                    }
                    return;
                }
                if let Some(a) = s.answer
                    && k.pending == 0
                {
                    k.view = a.item;
                }
            }
            Outcome::Refused { error } => {
                k.refused = Some(error.clone());
                k.pending = 0;
                self.history.remove(&id);
                let msg = format!("{} {}", k.view.code.hyphenated(), error.message);
                if id.0 > 0 {
                    self.net.send(Request::Item { id });
                }
                self.refuse(msg);
            }
        }
    }

    fn settle_other(&mut self, other: ItemView) {
        // A part harvested here: its label is printed as soon as it exists.
        if let Some(h) = self
            .harvested
            .iter_mut()
            .find(|h| h.code == other.code && !h.printed)
        {
            h.printed = true;
            self.print(LabelSource::Item(other.id), "part");
        }
        let known_as = self.by_code(other.code);
        if let Some(local) = known_as.filter(|i| i.0 < 0) {
            self.rename(local, other.id);
        }
        if let Some(k) = self.items.get_mut(&other.id) {
            k.pending = k.pending.saturating_sub(1);
            if k.pending == 0 {
                k.view = other;
            }
        } else {
            self.learn(other);
        }
    }

    /// An item registered here got its id from the server.
    fn rename(&mut self, local: ItemId, id: ItemId) -> ItemId {
        if let Some(mut k) = self.items.remove(&local) {
            k.view.id = id;
            self.items.insert(id, k);
        }
        for v in self.codes.values_mut() {
            if *v == local {
                *v = id;
            }
        }
        if self.focus == Focus::Item(local) {
            self.focus = Focus::Item(id);
        }
        if self.device == Some(local) {
            self.device = Some(id);
        }
        for h in &mut self.harvested {
            if h.device == local {
                h.device = id;
            }
        }
        id
    }

    // ------------------------------------------------------------------ actions

    /// Checks `command` on `item` against the rules, journals it, and shows its
    /// predicted effect. Returns false (and says why) when it is refused.
    pub fn act(&mut self, item: ItemId, command: Command) -> bool {
        let Some(k) = self.items.get(&item) else {
            return false;
        };
        let site = self.bench_site().unwrap_or(k.view.site);
        let lc = k.view.lifecycle();
        let counterpart_id = match &command {
            Command::FitPart { part, .. } | Command::RemovePart { part, .. } => Some(*part),
            _ => None,
        };
        let counterpart =
            counterpart_id.and_then(|p| self.items.get(&p).map(|k| (p, k.view.lifecycle())));
        if counterpart_id.is_some() && counterpart.is_none() {
            return false;
        }
        let preview = lifecycle::preview(
            item,
            &lc,
            &command,
            site,
            counterpart.as_ref().map(|(id, lc)| (*id, lc)),
        );
        let next = match preview {
            Some(Err(refusal)) => {
                let msg = refusal.message(self.lang());
                self.refuse(msg);
                return false;
            }
            Some(Ok(next)) => Some(next),
            None => None,
        };
        let code = k.view.code;
        let version = k.view.version;
        let what = command_name(&command, self.lang());
        let op = BatchOp::Event {
            item: ItemRef::Code(code.as_str().to_owned()),
            request: EventRequest {
                idempotency_key: new_key(),
                expected_version: version,
                occurred_at: Some(chrono::Utc::now()),
                command: command.clone(),
            },
        };
        let Some(seq) = self.journal_op(op) else {
            return false;
        };
        // The predicted effect, shown at once.
        let lang = self.lang();
        if let Some(k) = self.items.get_mut(&item) {
            k.pending += 1;
            k.refused = None;
            k.view.version += 1;
            if let Some(next) = &next {
                apply_lifecycle(&mut k.view, next, lang);
            }
            if let Command::QaTest { report } = &command {
                k.view.functional_grade = report.functional_grade;
                k.view.cosmetic_grade = report.cosmetic_grade;
            }
            k.recent.push(Recent {
                what: Step::Command(Box::new(command.clone())),
                at: chrono::Utc::now(),
                confirmed: false,
            });
        }
        if let (Some((pid, plc)), Some(_)) = (counterpart, &next) {
            let step = match &command {
                Command::FitPart { .. } => lifecycle::fit(item, &lc, pid, &plc),
                _ => lifecycle::remove(item, &lc, pid, &plc),
            };
            if let (Ok(step), Some(p)) = (step, self.items.get_mut(&pid)) {
                p.pending += 1;
                p.view.version += 1;
                apply_lifecycle(&mut p.view, &step.part, lang);
                p.recent.push(Recent {
                    what: Step::Command(Box::new(command.clone())),
                    at: chrono::Utc::now(),
                    confirmed: false,
                });
            }
        }
        let correctable = match &next {
            Some(_) => command.event_type().is_correctable(),
            None => false,
        };
        self.undo = Some(Undoable {
            item,
            seq,
            event: None,
            correctable,
        });
        self.info(format!("{what} — {}", code.hyphenated()));
        true
    }

    fn journal_op(&mut self, op: BatchOp) -> Option<u64> {
        let r = lock(&self.journal).append(op);
        match r {
            Ok(seq) => {
                self.waiting = lock(&self.journal).waiting();
                self.net.journaled();
                Some(seq)
            }
            Err(e) => {
                let msg = format!(
                    "{} {e}",
                    self.t("Journal illisible ou plein :", "Journal unusable:")
                );
                self.refuse(msg);
                None
            }
        }
    }

    /// The bench's site, from the signed-in session.
    pub fn bench_site(&self) -> Option<SiteId> {
        let s = self.session.as_ref()?;
        s.bench.as_ref().map(|b| b.site).or(s.user.site)
    }

    /// Registers the machine with the fresh `code` at reception.
    pub fn register(&mut self, code: LabelCode, form: &Intake) -> bool {
        let Some(site) = self.bench_site() else {
            return false;
        };
        let Some(category) = form.category else {
            self.refuse(self.t("Choisissez une catégorie.", "Choose a category."));
            return false;
        };
        let weight_g = match form.weight_kg.trim().replace(',', ".") {
            w if w.is_empty() => None,
            w => match w.parse::<f64>() {
                Ok(kg) if kg > 0.0 && kg < 1000.0 => Some((kg * 1000.0).round() as i64),
                _ => {
                    self.refuse(self.t(
                        "Poids illisible (en kg, par exemple 2,1).",
                        "Unreadable weight (in kg, e.g. 2.1).",
                    ));
                    return false;
                }
            },
        };
        let drives: Vec<DriveSpec> = form
            .drives
            .split(['\n', ',', ';'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|serial| DriveSpec {
                serial: serial.to_owned(),
                make: None,
                model: None,
                size_gb: None,
                bus: None,
                media: None,
            })
            .collect();
        if category.kind() == ItemKind::Device && drives.is_empty() && !form.no_drive {
            self.refuse(self.t(
                "Déclarez les disques (numéros de série) ou cochez « aucun disque ».",
                "Declare the drives (serial numbers) or tick \"no drive\".",
            ));
            return false;
        }
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let req = RegisterItem {
            idempotency_key: new_key(),
            code: code.as_str().to_owned(),
            category,
            site: Some(site),
            collection: self.collection,
            at_workshop: true,
            brand: opt(&form.brand),
            model: opt(&form.model),
            serial: opt(&form.serial),
            asset_tag: opt(&form.asset_tag),
            specs: Specs::default(),
            weight_g,
            weight_estimated: false,
            drives: drives.clone(),
            no_drive: form.no_drive && drives.is_empty(),
            occurred_at: Some(chrono::Utc::now()),
        };
        // What the server will make of it, by the same rules.
        let payload = EventPayload::Registered {
            code,
            kind: category.kind(),
            category,
            state: if category.kind() == ItemKind::Device {
                ItemState::Received
            } else {
                ItemState::InStock
            },
            site,
            collection: self.collection,
            origin: None,
            drive: None,
        };
        let mut lc = match lifecycle::register(&payload) {
            Ok(lc) => lc,
            Err(r) => {
                let msg = r.message(self.lang());
                self.refuse(msg);
                return false;
            }
        };
        let mut version = 1;
        let extra = if !drives.is_empty() {
            Some(EventPayload::DrivesDeclared { drives })
        } else if req.no_drive {
            Some(EventPayload::NoDriveDeclared)
        } else {
            None
        };
        if let Some(e) = extra {
            match lifecycle::apply(&lc, &e, &lifecycle::Context::default()) {
                Ok(n) => {
                    lc = n;
                    version += 1;
                }
                Err(r) => {
                    let msg = r.message(self.lang());
                    self.refuse(msg);
                    return false;
                }
            }
        }
        let Some(seq) = self.journal_op(BatchOp::Register(req.clone())) else {
            return false;
        };
        let id = ItemId(self.next_local_id);
        self.next_local_id -= 1;
        let now = chrono::Utc::now();
        let mut view = new_view(id, code, category, site, now);
        view.version = version;
        view.collection = self.collection;
        view.brand = req.brand;
        view.model = req.model;
        view.serial = req.serial;
        view.asset_tag = req.asset_tag;
        view.weight_g = weight_g;
        apply_lifecycle(&mut view, &lc, self.lang());
        let what = self
            .t("Enregistré et reçu", "Registered and received")
            .to_owned();
        self.items.insert(
            id,
            Known {
                view,
                pending: 1,
                refused: None,
                recent: vec![Recent {
                    what: Step::Registered,
                    at: now,
                    confirmed: false,
                }],
            },
        );
        self.codes.insert(code, id);
        if let Some(c) = self.collection {
            *self.registered_here.entry(c).or_default() += 1;
        }
        self.last_intake.insert(self.collection, form.clone());
        self.focus = Focus::Item(id);
        self.undo = Some(Undoable {
            item: id,
            seq,
            event: None,
            correctable: false,
        });
        self.info(format!("{what} — {}", code.hyphenated()));
        true
    }

    /// Harvests a part of `category` from the device on screen, labelled with the next
    /// code of the bench's own block; its label is printed at once.
    pub fn harvest(&mut self, device: ItemId, category: Category, spec: &str) -> bool {
        let Some(code) = self.own_codes.front().copied() else {
            self.refuse(self.t(
                "Plus de codes réservés au poste : reconnectez-vous au serveur.",
                "No codes left for this bench: reconnect to the server.",
            ));
            self.top_up_codes();
            return false;
        };
        let spec = spec.trim();
        // A drive taken out is one of the drives declared in the device.
        let drive_serial = if category.is_drive() {
            let serial = self.items.get(&device).and_then(|k| {
                k.view
                    .drives
                    .iter()
                    .find(|d| d.part.is_none())
                    .map(|d| d.serial.clone())
            });
            if serial.is_none() {
                self.refuse(self.t(
                    "Aucun disque déclaré à sortir de cet appareil.",
                    "No declared drive left to take out of this item.",
                ));
                return false;
            }
            serial
        } else {
            None
        };
        let command = Command::HarvestPart {
            code: code.as_str().to_owned(),
            category,
            brand: None,
            model: None,
            serial: None,
            specs: Specs {
                part_spec: Some(spec.to_owned()).filter(|s| !s.is_empty()),
                ..Specs::default()
            },
            weight_g: None,
            drive_serial,
        };
        if !self.act(device, command) {
            return false;
        }
        self.own_codes.pop_front();
        self.save_codes();
        self.top_up_codes();
        // The part, as the server will register it.
        let Some(d) = self.items.get(&device).map(|k| k.view.clone()) else {
            return true;
        };
        let id = ItemId(self.next_local_id);
        self.next_local_id -= 1;
        let now = chrono::Utc::now();
        let mut view = new_view(id, code, category, d.site, now);
        view.state = ItemState::InStock;
        view.origin = Some(device);
        view.collection = d.collection;
        view.specs.part_spec = Some(spec.to_owned()).filter(|s| !s.is_empty());
        self.items.insert(
            id,
            Known {
                view,
                pending: 1,
                refused: None,
                recent: Vec::new(),
            },
        );
        self.codes.insert(code, id);
        // Offline, the bench renders the part label itself (the same renderer as the
        // server's) and sends it to its ZPL printer; online, the server prints it once
        // it has registered the part.
        let printed = self.online == Some(false) && self.print_direct(id, "part");
        self.harvested.push(Harvested {
            code,
            category,
            device,
            confirmed: false,
            printed,
        });
        true
    }

    /// Records the erasures an nwipe log reports for the drives of `item`, matched by
    /// serial; a drive nwipe failed to erase is then recorded as destroyed (by
    /// `destroy_method`). Returns (erased, failed then destroyed, not matched).
    pub fn import_nwipe(
        &mut self,
        item: ItemId,
        log: &str,
        destroy_method: &str,
    ) -> Option<(usize, usize, usize)> {
        let report = match crate::nwipe::parse_log(log) {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("nwipe : {e}");
                self.refuse(msg);
                return None;
            }
        };
        let pending: Vec<String> = self
            .items
            .get(&item)?
            .view
            .drives
            .iter()
            .filter(|d| !d.status.is_sanitised())
            .map(|d| d.serial.clone())
            .collect();
        let now = chrono::Utc::now();
        let (mut erased, mut destroyed, mut unmatched) = (0, 0, 0);
        for d in &report.drives {
            let Some(serial) = pending
                .iter()
                .find(|s| crate::nwipe::same_serial(s, &d.serial))
            else {
                unmatched += 1;
                continue;
            };
            let erasure = crate::nwipe::erasure(&report, d, log, now);
            if !self.act(
                item,
                Command::EraseDrive {
                    serial: serial.clone(),
                    erasure,
                },
            ) {
                return None;
            }
            if d.result == ErasureResult::Erased {
                erased += 1;
            } else if self.act(
                item,
                Command::DestroyDrive {
                    serial: serial.clone(),
                    method: destroy_method.trim().to_owned(),
                    notes: Some("nwipe".into()),
                },
            ) {
                destroyed += 1;
            }
        }
        let msg = format!(
            "nwipe : {erased} {}, {destroyed} {}, {unmatched} {}",
            self.t("effacé(s)", "erased"),
            self.t("en échec puis détruit(s)", "failed then destroyed"),
            self.t(
                "sans disque correspondant sur cet appareil",
                "not matching a drive of this item"
            ),
        );
        if erased + destroyed == 0 {
            self.refuse(msg);
        } else {
            self.info(msg);
        }
        Some((erased, destroyed, unmatched))
    }

    /// Renders the label of a known item on the bench and sends it to the bench's ZPL
    /// printer directly. False when that cannot be done (no ZPL printer known).
    pub fn print_direct(&mut self, item: ItemId, template: &str) -> bool {
        use filiere_shared::label;
        let Some(printer) = self
            .printers
            .iter()
            .find(|p| Some(p.id) == self.settings.printer && p.kind == PrinterKind::Zpl)
            .cloned()
        else {
            return false;
        };
        let Some(view) = self.items.get(&item).map(|k| k.view.clone()) else {
            return false;
        };
        let Some(t) = label::builtin_templates()
            .into_iter()
            .find(|t| t.name == template)
        else {
            return false;
        };
        let Some(size) = label::media(&printer.media) else {
            return false;
        };
        let dpi = printer
            .dpi
            .and_then(label::Dpi::parse)
            .unwrap_or(label::Dpi::D203);
        let options = label::RenderOptions {
            host: None,
            lang: self.lang(),
        };
        let zpl = label::layout(&t, size, &label::LabelData::item(&view, None), &options)
            .and_then(|l| label::zpl(&[l], dpi));
        match zpl {
            Ok(zpl) => {
                self.net.send(Request::PrintDirect {
                    address: printer.address.clone(),
                    zpl,
                });
                true
            }
            Err(e) => {
                let msg = e.message(self.lang());
                self.refuse(msg);
                false
            }
        }
    }

    /// Sends labels to the bench's printer through the server's renderers.
    pub fn print(&mut self, source: LabelSource, template: &str) {
        let Some(printer) = self.settings.printer else {
            self.refuse(self.t(
                "Aucune imprimante choisie pour ce poste (réglages).",
                "No printer chosen for this bench (settings).",
            ));
            return;
        };
        self.net.send(Request::Print {
            request: PrintRequest {
                printer,
                source,
                template: template.to_owned(),
                start_slot: None,
                lang: Some(self.lang()),
            },
        });
    }

    /// Undoes the bench's last action by a compensating event.
    pub fn undo_last(&mut self) -> bool {
        let Some(u) = self.undo.clone() else {
            self.refuse(self.t("Rien à annuler.", "Nothing to undo."));
            return false;
        };
        if !u.correctable {
            self.refuse(self.t(
                "Cette action ne s'annule pas ainsi (pièce : retirez-la ; lot : retirez l'article).",
                "This action is not undone this way (part: remove it; batch: take the item out).",
            ));
            return false;
        }
        let Some(event) = u.event else {
            self.refuse(self.t(
                "Action pas encore transmise : annulation possible dès son envoi.",
                "Action not sent yet: it can be undone once sent.",
            ));
            return false;
        };
        let reason = self.t("annulé au poste", "undone at the bench").to_owned();
        let ok = self.act(u.item, Command::CorrectLast { event, reason });
        if ok {
            // The server's answer says what the item is now.
            self.undo = None;
        }
        ok
    }

    /// Asks for another block of codes when the bench runs low.
    pub fn top_up_codes(&mut self) {
        if self.own_codes.len() >= OWN_CODES_LOW || self.codes_asked {
            return;
        }
        let Some(s) = &self.session else { return };
        let Some(bench) = &s.bench else { return };
        self.codes_asked = true;
        self.net.send(Request::AllocateCodes {
            site: bench.site,
            bench: bench.id,
            count: OWN_CODES_BLOCK,
        });
    }

    fn save_codes(&self) {
        if let Ok(bytes) = serde_json::to_vec(&self.own_codes) {
            let tmp = self.dir.join(format!("{OWN_CODES_FILE}.tmp"));
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(tmp, self.dir.join(OWN_CODES_FILE));
            }
        }
    }

    /// Collection being unloaded: (declared, received so far).
    pub fn collection_count(&self) -> Option<(i64, i64)> {
        let c = self
            .collections
            .iter()
            .find(|c| Some(c.id) == self.collection)?;
        let mine = self.registered_here.get(&c.id).copied().unwrap_or(0);
        Some((c.declared_count.into(), c.received_count + mine))
    }

    /// Open WEEE batch: (items, weight in grams), with what was added here.
    pub fn weee_running(&self) -> Option<(&WeeeBatchView, i64)> {
        let b = self.weee.iter().find(|b| Some(b.id) == self.weee_batch)?;
        Some((
            b,
            b.items_weight_g + self.weee_added_g.get(&b.id).copied().unwrap_or(0),
        ))
    }

    /// Actions the server refused, newest first.
    pub fn refusals(&self) -> Vec<(u64, ErrorBody)> {
        lock(&self.journal)
            .refused()
            .map(|(e, err)| (e.seq, err.clone()))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    }
}

fn lock(j: &Mutex<Journal>) -> std::sync::MutexGuard<'_, Journal> {
    j.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fresh idempotency key.
pub fn new_key() -> String {
    format!("bench-{:032x}", rand::random::<u128>())
}

/// The view of an item the bench creates before the server has answered (a local id,
/// version 1); the caller fills in what it knows.
fn new_view(
    id: ItemId,
    code: LabelCode,
    category: Category,
    site: SiteId,
    now: chrono::DateTime<chrono::Utc>,
) -> ItemView {
    ItemView {
        id,
        code,
        previous_codes: Vec::new(),
        kind: category.kind(),
        category,
        state: ItemState::Received,
        version: 1,
        site,
        parent: None,
        origin: None,
        collection: None,
        brand: None,
        model: None,
        serial: None,
        asset_tag: None,
        specs: Specs::default(),
        weight_g: None,
        weight_estimated: false,
        route: None,
        drives_declared: false,
        drives: Vec::new(),
        parts: Vec::new(),
        qa: None,
        functional_grade: None,
        cosmetic_grade: None,
        weee_batch: None,
        hold: None,
        sale: None,
        blockers: Vec::new(),
        created_at: now,
        updated_at: now,
    }
}

/// Copies a predicted lifecycle onto the item's view.
pub fn apply_lifecycle(view: &mut ItemView, lc: &Lifecycle, lang: Lang) {
    view.state = lc.state;
    view.site = lc.site;
    view.parent = lc.parent;
    view.route = lc.route;
    view.drives_declared = lc.drives_declared;
    view.drives = lc.drives.clone();
    view.parts = lc.parts.clone();
    view.qa = lc.qa;
    view.weee_batch = lc.weee_batch;
    view.hold = lc.hold.as_deref().cloned();
    view.blockers = if lc.state == ItemState::Refurbishing {
        lc.blockers_for_ready()
            .iter()
            .map(|r: &Refusal| Blocker {
                code: r.code(),
                message: r.message(lang),
            })
            .collect()
    } else {
        Vec::new()
    };
}

/// What an action is called on screen.
pub fn command_name(c: &Command, lang: Lang) -> String {
    match c {
        Command::Triage { route } => {
            format!("{} : {}", EventType::Triaged.name(lang), route.name(lang))
        }
        Command::TestPart { result, .. } => {
            format!(
                "{} : {}",
                EventType::PartTested.name(lang),
                result.name(lang)
            )
        }
        Command::EraseDrive { serial, .. } | Command::DestroyDrive { serial, .. } => {
            format!("{} ({serial})", c.event_type().name(lang))
        }
        Command::HarvestPart { category, code, .. } => format!(
            "{} : {} {}",
            EventType::PartHarvested.name(lang),
            category.name(lang),
            LabelCode::parse(code)
                .map(|c| c.hyphenated())
                .unwrap_or_default()
        ),
        _ => c.event_type().name(lang).to_owned(),
    }
}
