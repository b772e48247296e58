//! The bench's window: first-run setup, badge sign-in, then the station's screen.
//! Large type, high contrast, every action on a key. Input is read once per frame:
//! scans are taken out first (wherever the focus is), then keys become [`Cmd`]s,
//! drained in one place.

use crate::bench::{Bench, Focus, Intake, Known};
use crate::scanner::Burst;
use crate::scanner::capture::ScanCapture;
use crate::settings::{Settings, Station};
use crate::tr;
use eframe::egui::{self, Color32, Key, RichText};
use filiere_shared::api::*;
use filiere_shared::lifecycle::{ErasureData, QaData, QaLine};
use filiere_shared::names::Named;
use filiere_shared::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

const OK: Color32 = Color32::from_rgb(120, 230, 120);
const WARN: Color32 = Color32::from_rgb(255, 190, 60);
const BAD: Color32 = Color32::from_rgb(255, 90, 90);
const DIM: Color32 = Color32::from_rgb(190, 190, 190);

/// Teardown hotkeys: F1… for each salvaged part category.
pub const HARVEST_KEYS: [(Key, Category); 9] = [
    (Key::F1, Category::Ram),
    (Key::F2, Category::Ssd),
    (Key::F3, Category::Hdd),
    (Key::F4, Category::Nvme),
    (Key::F5, Category::Battery),
    (Key::F6, Category::Screen),
    (Key::F7, Category::Charger),
    (Key::F8, Category::Cpu),
    (Key::F9, Category::Keyboard),
];

/// Reception: the intake form's category, F1…F8.
pub const INTAKE_KEYS: [(Key, Category); 8] = [
    (Key::F1, Category::Laptop),
    (Key::F2, Category::Desktop),
    (Key::F3, Category::AllInOne),
    (Key::F4, Category::Monitor),
    (Key::F5, Category::Tablet),
    (Key::F6, Category::Phone),
    (Key::F7, Category::Server),
    (Key::F8, Category::OtherDevice),
];

/// QA checklist lines, keyed 1 to 9 then 0.
pub const QA_LINES: [QaCheck; 10] = [
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
];

/// The digit keys 1 to 9 then 0 (stations on Alt, QA lines, triage choices).
pub const DIGITS: [Key; 10] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
    Key::Num0,
];

/// What the screen asks the bench to do, drained once per frame.
// A handful per frame at most: not worth boxing the commands.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Cmd {
    Scan(Burst, Instant),
    Search(String),
    Register(LabelCode),
    Step(ItemId, Command),
    Harvest(ItemId, Category),
    /// Import the nwipe log at the path typed on the erasure screen.
    ImportNwipe(ItemId),
    QaSubmit(ItemId),
    Undo,
    /// Replace the lost label of the item on screen by the next blank one scanned.
    Relabel,
    SetStation(Station),
    ToggleLang,
    Clear,
    OpenSettings,
    SignOut,
}

/// First-run (and settings) form.
#[derive(Debug, Clone, Default)]
pub struct SetupForm {
    pub settings: Settings,
    pub error: Option<String>,
}

/// Per-station form state that is not the bench's business.
#[derive(Debug, Clone)]
pub struct Forms {
    pub intake: Intake,
    pub intake_for: Option<LabelCode>,
    pub search: String,
    pub spec: String,
    pub qa: Vec<(QaCheck, QaOutcome)>,
    pub functional: Option<Grade>,
    pub cosmetic: Option<Grade>,
    pub os: String,
    pub erasure_tool: String,
    pub erasure_method: String,
    pub erasure_passes: u32,
    pub erasure_verified: bool,
    pub erasure_level: NistLevel,
    pub erasure_technique: ErasureTechnique,
    pub destroy_method: String,
    pub nwipe_path: String,
    /// The intake form just opened: the brand field takes the focus.
    pub focus_brand: bool,
}

impl Default for Forms {
    fn default() -> Self {
        Forms {
            intake: Intake::default(),
            intake_for: None,
            search: String::new(),
            spec: String::new(),
            qa: QA_LINES.iter().map(|c| (*c, QaOutcome::Pass)).collect(),
            functional: None,
            cosmetic: None,
            os: "Emmabuntüs DE5".into(),
            erasure_tool: "nwipe".into(),
            erasure_method: "PRNG Stream".into(),
            erasure_passes: 1,
            erasure_verified: true,
            erasure_level: NistLevel::Clear,
            erasure_technique: ErasureTechnique::Overwrite,
            destroy_method: "perçage".into(),
            nwipe_path: String::new(),
            focus_brand: false,
        }
    }
}

pub enum Screen {
    Setup(SetupForm),
    Bench(Box<Bench>),
}

pub struct BenchApp {
    pub dir: PathBuf,
    pub screen: Screen,
    pub forms: Forms,
    capture: ScanCapture,
    cmds: Vec<Cmd>,
    /// The window's input hook ran for this frame.
    hooked: bool,
    started: Instant,
    repaint: Arc<dyn Fn() + Send + Sync>,
    /// A sound for refusals (see `sound`); off in tests.
    pub sound: bool,
    /// Events of the USB scanners read directly, when enabled.
    usb: Option<std::sync::mpsc::Receiver<crate::scanner::usb::UsbEvent>>,
}

fn log_error(msg: &str) {
    eprintln!("filiere-bench: {msg}");
}

impl BenchApp {
    /// Opens the bench in `dir`: its settings if saved, else the first-run form.
    pub fn new(ctx: &egui::Context, dir: PathBuf) -> BenchApp {
        style(ctx);
        let c = ctx.clone();
        let repaint: Arc<dyn Fn() + Send + Sync> = Arc::new(move || c.request_repaint());
        let mut app = BenchApp {
            dir,
            screen: Screen::Setup(SetupForm::default()),
            forms: Forms::default(),
            capture: ScanCapture::default(),
            cmds: Vec::new(),
            hooked: false,
            started: Instant::now(),
            repaint,
            sound: true,
            usb: None,
        };
        match Settings::load(&app.dir) {
            Ok(Some(s)) if s.is_complete() => app.start(s),
            Ok(Some(s)) => {
                app.screen = Screen::Setup(SetupForm {
                    settings: s,
                    error: None,
                })
            }
            Ok(None) => {}
            Err(e) => {
                app.screen = Screen::Setup(SetupForm {
                    settings: Settings::default(),
                    error: Some(e.to_string()),
                })
            }
        }
        app
    }

    fn start(&mut self, settings: Settings) {
        self.usb = None;
        if settings.usb_scanners {
            match crate::scanner::usb::spawn(
                crate::scanner::usb::libusb::RusbBus::new(),
                self.repaint.clone(),
            ) {
                Ok(rx) => self.usb = Some(rx),
                Err(e) => log_error(&format!("USB thread: {e}")),
            }
        }
        match Bench::open(&self.dir, settings.clone(), self.repaint.clone()) {
            Ok(b) => self.screen = Screen::Bench(Box::new(b)),
            Err(e) => {
                self.screen = Screen::Setup(SetupForm {
                    settings,
                    error: Some(e.to_string()),
                })
            }
        }
    }

    pub fn bench(&self) -> Option<&Bench> {
        match &self.screen {
            Screen::Bench(b) => Some(b),
            Screen::Setup(_) => None,
        }
    }

    pub fn bench_mut(&mut self) -> Option<&mut Bench> {
        match &mut self.screen {
            Screen::Bench(b) => Some(b),
            Screen::Setup(_) => None,
        }
    }

    fn lang(&self) -> Lang {
        match &self.screen {
            Screen::Bench(b) => b.lang(),
            Screen::Setup(f) => f.settings.lang,
        }
    }

    /// Takes scans out of a frame's input before egui reads it.
    fn capture(&mut self, ctx: &egui::Context, events: &mut Vec<egui::Event>) {
        let now = self.started.elapsed().as_millis() as u64;
        let at = Instant::now();
        for b in self.capture.process(events, now) {
            self.cmds.push(Cmd::Scan(b, at));
        }
        if let Some(ms) = self.capture.holding() {
            ctx.request_repaint_after(std::time::Duration::from_millis(ms));
        }
    }

    fn run(&mut self, ctx: &egui::Context) {
        let cmds = std::mem::take(&mut self.cmds);
        // A step refused on the bench stops the steps queued after it for that item
        // (X on a drive: no "destroyed" after a refused "failed").
        let mut refused: Vec<ItemId> = Vec::new();
        for cmd in cmds {
            if let Cmd::Step(item, _) = &cmd {
                if refused.contains(item) {
                    continue;
                }
                let item = *item;
                if !self.apply(ctx, cmd) {
                    refused.push(item);
                }
                continue;
            }
            self.apply(ctx, cmd);
        }
    }

    /// Does `cmd`; false when it was refused.
    fn apply(&mut self, _ctx: &egui::Context, cmd: Cmd) -> bool {
        let forms = &mut self.forms;
        let Screen::Bench(bench) = &mut self.screen else {
            return false;
        };
        let mut ok = true;
        match cmd {
            Cmd::Scan(
                Burst::Captured {
                    scan,
                    azerty_recovered,
                },
                at,
            ) => bench.scanned(scan, azerty_recovered, at),
            Cmd::Scan(Burst::Text(_), _) => {}
            Cmd::Search(text) => bench.search(&text),
            Cmd::Register(code) => {
                if bench.register(code, &forms.intake) {
                    forms.intake_for = None;
                }
            }
            Cmd::Step(item, command) => {
                if let Command::AddToWeeeBatch { batch } = &command {
                    let w = bench.known(item).and_then(|k| k.view.weight_g).unwrap_or(0);
                    ok = bench.act(item, command.clone());
                    if ok {
                        *bench.weee_added_g.entry(*batch).or_default() += w;
                    }
                } else {
                    ok = bench.act(item, command);
                }
            }
            Cmd::Harvest(device, category) => {
                if bench.harvest(device, category, &forms.spec) {
                    forms.spec.clear();
                }
            }
            Cmd::ImportNwipe(item) => match std::fs::read_to_string(forms.nwipe_path.trim()) {
                Ok(log) => {
                    bench.import_nwipe(item, &log, &forms.destroy_method);
                }
                Err(e) => {
                    let msg = format!(
                        "{} {e}",
                        tr(bench.lang(), "Fichier illisible :", "Cannot read the file:")
                    );
                    bench.refuse(msg);
                }
            },
            Cmd::QaSubmit(item) => {
                let report = QaData {
                    checks: forms
                        .qa
                        .iter()
                        .map(|(check, outcome)| QaLine {
                            check: *check,
                            outcome: *outcome,
                            note: None,
                        })
                        .collect(),
                    os_installed: Some(forms.os.trim().to_owned()).filter(|s| !s.is_empty()),
                    functional_grade: forms.functional,
                    cosmetic_grade: forms.cosmetic,
                    notes: None,
                };
                let passed = report.passed();
                if bench.act(item, Command::QaTest { report }) && passed {
                    // Passed: the sale label goes to the printer, the device is ready.
                    if bench.act(item, Command::MarkReady) {
                        if item.0 > 0 {
                            bench.print(LabelSource::Item(item), "sale");
                        }
                        *forms = Forms {
                            search: std::mem::take(&mut forms.search),
                            ..Forms::default()
                        };
                    }
                }
            }
            Cmd::Undo => {
                bench.undo_last();
            }
            Cmd::Relabel => bench.start_relabel(),
            Cmd::SetStation(s) => {
                bench.settings.station = s;
                let _ = bench.settings.save(&bench.dir);
                bench.focus = Focus::Nothing;
            }
            Cmd::ToggleLang => {
                bench.settings.lang = match bench.settings.lang {
                    Lang::Fr => Lang::En,
                    Lang::En => Lang::Fr,
                };
                let _ = bench.settings.save(&bench.dir);
            }
            Cmd::Clear => {
                bench.focus = Focus::Nothing;
                bench.device = None;
                forms.intake_for = None;
            }
            Cmd::OpenSettings => {
                let settings = bench.settings.clone();
                self.screen = Screen::Setup(SetupForm {
                    settings,
                    error: None,
                });
            }
            Cmd::SignOut => {
                bench.net.send(crate::net::Request::SignOut);
                bench.session = None;
                bench.focus = Focus::Nothing;
            }
        }
        ok
    }

    /// Keys of the station screen (when no text field has the focus, except F-keys).
    fn keys(&mut self, ctx: &egui::Context) {
        let typing = ctx.memory(|m| m.focused().is_some());
        let Screen::Bench(bench) = &self.screen else {
            return;
        };
        let pressed = |k: Key| ctx.input(|i| i.key_pressed(k));
        let ctrl = |k: Key| ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, k));
        let mut cmds = Vec::new();
        if ctrl(Key::Z) {
            cmds.push(Cmd::Undo);
        }
        if ctrl(Key::R) {
            cmds.push(Cmd::Relabel);
        }
        if pressed(Key::F12) {
            cmds.push(Cmd::ToggleLang);
        }
        if pressed(Key::F11) {
            cmds.push(Cmd::OpenSettings);
        }
        if pressed(Key::Escape) {
            cmds.push(Cmd::Clear);
        }
        for (n, s) in Station::ALL.iter().enumerate() {
            if ctx.input_mut(|i| i.consume_key(egui::Modifiers::ALT, DIGITS[n])) {
                cmds.push(Cmd::SetStation(*s));
                self.cmds.extend(cmds);
                return;
            }
        }
        let station = bench.settings.station;
        let current = bench.current().map(|k| k.view.clone());
        match (&bench.focus, current) {
            (Focus::Intake(code), _) => {
                for (k, c) in INTAKE_KEYS {
                    if pressed(k) {
                        self.forms.intake.category = Some(c);
                    }
                }
                if pressed(Key::Enter) && !typing_multiline(ctx) {
                    cmds.push(Cmd::Register(*code));
                }
            }
            (Focus::Item(id), Some(v)) => {
                let id = *id;
                station_keys(
                    station,
                    bench,
                    &mut self.forms,
                    id,
                    &v,
                    typing,
                    &pressed,
                    &mut cmds,
                );
            }
            _ => {}
        }
        self.cmds.extend(cmds);
    }
}

fn typing_multiline(ctx: &egui::Context) -> bool {
    ctx.memory(|m| m.focused()) == Some(egui::Id::unique("intake-drives"))
}

#[allow(clippy::too_many_arguments)]
fn station_keys(
    station: Station,
    bench: &Bench,
    forms: &mut Forms,
    id: ItemId,
    v: &ItemView,
    typing: bool,
    pressed: &dyn Fn(Key) -> bool,
    cmds: &mut Vec<Cmd>,
) {
    let step = |c: Command| Cmd::Step(id, c);
    match station {
        Station::Reception => {
            if pressed(Key::Enter) && v.state == ItemState::Collected {
                cmds.push(step(Command::Receive { site: None }));
            }
        }
        Station::Triage => {
            if !typing {
                for (k, r) in [
                    (Key::Num1, Route::Refurbish),
                    (Key::Num2, Route::Harvest),
                    (Key::Num3, Route::Recycle),
                ] {
                    if pressed(k) {
                        cmds.push(step(Command::Triage { route: r }));
                    }
                }
            }
        }
        Station::Erasure => {
            let pending = v.drives.iter().find(|d| !d.status.is_sanitised());
            if pressed(Key::F4) {
                cmds.push(Cmd::ImportNwipe(id));
            }
            if let (Some(d), false) = (pending, typing) {
                if pressed(Key::E) {
                    cmds.push(step(erase_command(forms, &d.serial, ErasureResult::Erased)));
                }
                if pressed(Key::X) {
                    // A failed erasure is recorded, then the drive is destroyed.
                    cmds.push(step(erase_command(forms, &d.serial, ErasureResult::Failed)));
                    cmds.push(step(destroy_command(forms, &d.serial)));
                }
                if pressed(Key::D) {
                    cmds.push(step(destroy_command(forms, &d.serial)));
                }
            }
        }
        Station::Teardown => match v.kind {
            ItemKind::Device => {
                for (k, c) in HARVEST_KEYS {
                    if pressed(k) {
                        cmds.push(Cmd::Harvest(id, c));
                    }
                }
                if pressed(Key::F10) {
                    cmds.push(step(Command::FinishTeardown));
                }
            }
            ItemKind::Part if !typing => {
                if pressed(Key::G) {
                    cmds.push(step(Command::TestPart {
                        result: PartTestResult::Good,
                        notes: None,
                    }));
                }
                if pressed(Key::B) {
                    cmds.push(step(Command::TestPart {
                        result: PartTestResult::Faulty,
                        notes: None,
                    }));
                }
            }
            ItemKind::Part => {}
        },
        Station::Repair => {
            if v.kind == ItemKind::Part
                && let Some(device) = bench.device.filter(|d| *d != id)
                && pressed(Key::Enter)
            {
                let c = if v.parent == Some(device) {
                    Command::RemovePart {
                        part: id,
                        part_expected_version: v.version,
                    }
                } else {
                    Command::FitPart {
                        part: id,
                        part_expected_version: v.version,
                    }
                };
                cmds.push(Cmd::Step(device, c));
            }
            if v.kind == ItemKind::Part && !typing && pressed(Key::G) {
                cmds.push(step(Command::TestPart {
                    result: PartTestResult::Good,
                    notes: None,
                }));
            }
        }
        Station::Qa => {
            if !typing {
                for (n, k) in DIGITS.iter().enumerate() {
                    if pressed(*k)
                        && let Some(line) = forms.qa.get_mut(n)
                    {
                        line.1 = match line.1 {
                            QaOutcome::Pass => QaOutcome::Fail,
                            QaOutcome::Fail => QaOutcome::NotApplicable,
                            QaOutcome::NotApplicable => QaOutcome::Pass,
                        };
                    }
                }
            }
            for (k, g) in [
                (Key::F1, Grade::A),
                (Key::F2, Grade::B),
                (Key::F3, Grade::C),
            ] {
                if pressed(k) {
                    forms.functional = Some(g);
                }
            }
            for (k, g) in [
                (Key::F5, Grade::A),
                (Key::F6, Grade::B),
                (Key::F7, Grade::C),
            ] {
                if pressed(k) {
                    forms.cosmetic = Some(g);
                }
            }
            if pressed(Key::Enter) {
                if v.state == ItemState::Received {
                    cmds.push(step(Command::Triage {
                        route: Route::Refurbish,
                    }));
                }
                cmds.push(Cmd::QaSubmit(id));
            }
        }
        Station::Recycling => {
            if pressed(Key::Enter)
                && let Some(batch) = bench.weee_batch
            {
                match v.state {
                    ItemState::ToRecycle => {}
                    // Not triaged yet: decided for recycling here.
                    ItemState::Received => cmds.push(step(Command::Triage {
                        route: Route::Recycle,
                    })),
                    _ => cmds.push(step(Command::MarkForRecycling)),
                }
                cmds.push(step(Command::AddToWeeeBatch { batch }));
            }
        }
    }
}

fn erase_command(forms: &Forms, serial: &str, result: ErasureResult) -> Command {
    let now = chrono::Utc::now();
    Command::EraseDrive {
        serial: serial.to_owned(),
        erasure: ErasureData {
            level: forms.erasure_level,
            technique: forms.erasure_technique,
            tool: forms.erasure_tool.trim().to_owned(),
            tool_version: None,
            method: Some(forms.erasure_method.trim().to_owned()).filter(|s| !s.is_empty()),
            passes: Some(forms.erasure_passes),
            verified: result == ErasureResult::Erased && forms.erasure_verified,
            started_at: now,
            ended_at: now,
            result,
            report: None,
        },
    }
}

fn destroy_command(forms: &Forms, serial: &str) -> Command {
    Command::DestroyDrive {
        serial: serial.to_owned(),
        method: forms.destroy_method.trim().to_owned(),
        notes: None,
    }
}

/// Large type, high contrast.
pub fn style(ctx: &egui::Context) {
    ctx.set_visuals(egui::Visuals::dark());
    ctx.global_style_mut(|s| {
        use egui::{FontFamily, FontId, TextStyle};
        s.text_styles = [
            (
                TextStyle::Heading,
                FontId::new(34.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(22.0, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(22.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(22.0, FontFamily::Monospace),
            ),
            (
                TextStyle::Small,
                FontId::new(17.0, FontFamily::Proportional),
            ),
        ]
        .into();
        s.visuals.override_text_color = Some(Color32::WHITE);
        s.visuals.panel_fill = Color32::from_rgb(12, 14, 18);
        s.spacing.item_spacing = egui::vec2(12.0, 10.0);
        s.spacing.button_padding = egui::vec2(14.0, 8.0);
    });
}

impl eframe::App for BenchApp {
    /// Scans are taken out of the window's input before egui sees it: a click that
    /// follows fast typing must not move the focus before the typing lands.
    fn raw_input_hook(&mut self, ctx: &egui::Context, raw_input: &mut egui::RawInput) {
        self.hooked = true;
        let mut events = std::mem::take(&mut raw_input.events);
        self.capture(ctx, &mut events);
        raw_input.events = events;
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if !std::mem::take(&mut self.hooked) {
            // Run without the window's input hook (a test harness): the input is
            // taken here, before any widget reads it.
            let mut events = ctx.input_mut(|i| std::mem::take(&mut i.events));
            self.capture(&ctx, &mut events);
            ctx.input_mut(|i| i.events = events);
        }
        let usb: Vec<_> = self
            .usb
            .as_ref()
            .map(|rx| rx.try_iter().collect())
            .unwrap_or_default();
        for e in usb {
            use crate::scanner::usb::UsbEvent;
            match e {
                UsbEvent::Scan(b) => self.cmds.push(Cmd::Scan(b, Instant::now())),
                UsbEvent::Connected(name) | UsbEvent::Disconnected(name) => {
                    if let Screen::Bench(b) = &mut self.screen {
                        let lang = b.lang();
                        b.info(format!(
                            "{} {name}",
                            tr(lang, "Douchette USB :", "USB scanner:")
                        ));
                    }
                }
                UsbEvent::Problem(msg) => {
                    if let Screen::Bench(b) = &mut self.screen {
                        b.refuse(msg);
                    }
                }
            }
        }
        if let Screen::Bench(b) = &mut self.screen {
            b.poll();
            if std::mem::take(&mut b.beep) && self.sound {
                crate::sound::play_refusal(&b.dir);
            }
            if let Focus::Intake(code) = b.focus
                && self.forms.intake_for != Some(code)
            {
                // A new intake starts from the last item of the same collection.
                let last = b
                    .last_intake
                    .get(&b.collection)
                    .cloned()
                    .unwrap_or_default();
                self.forms.intake = Intake {
                    serial: String::new(),
                    asset_tag: String::new(),
                    drives: String::new(),
                    ..last
                };
                self.forms.intake_for = Some(code);
                self.forms.focus_brand = true;
            }
        }
        self.keys(&ctx);
        self.run(&ctx);
        match &mut self.screen {
            Screen::Setup(_) => self.setup_ui(ui),
            Screen::Bench(_) => self.bench_ui(ui),
        }
        self.run(&ctx);
        if let Screen::Bench(b) = &self.screen
            && b.flash
                .as_ref()
                .is_some_and(|f| f.since.elapsed().as_secs() < 6)
        {
            ctx.request_repaint_after(std::time::Duration::from_millis(500));
        }
    }
}

impl BenchApp {
    fn setup_ui(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang();
        let t = |fr, en| tr(lang, fr, en);
        let Screen::Setup(form) = &mut self.screen else {
            return;
        };
        let mut start = None;
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading(t("Filière — réglages du poste", "Filière — bench settings"));
            ui.add_space(10.0);
            egui::Grid::new("setup")
                .num_columns(2)
                .spacing([20.0, 14.0])
                .show(ui, |ui| {
                    let l = ui.label(t("Adresse du serveur", "Server address"));
                    ui.add(
                        egui::TextEdit::singleline(&mut form.settings.server)
                            .hint_text("http://127.0.0.1:8080")
                            .desired_width(520.0),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label(t("Jeton du poste", "Bench token"));
                    ui.add(
                        egui::TextEdit::singleline(&mut form.settings.bench_token)
                            .password(true)
                            .desired_width(520.0),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                    ui.label(t("Poste", "Station"));
                    egui::ComboBox::from_id_salt("station")
                        .selected_text(form.settings.station.name(lang))
                        .show_ui(ui, |ui| {
                            for s in Station::ALL {
                                ui.selectable_value(&mut form.settings.station, s, s.name(lang));
                            }
                        });
                    ui.end_row();
                    let l = ui.label(t("Imprimante (n°)", "Printer (id)"));
                    let mut p = form
                        .settings
                        .printer
                        .map(|p| p.0.to_string())
                        .unwrap_or_default();
                    if ui
                        .add(
                            egui::TextEdit::singleline(&mut p)
                                .hint_text(t("celle du poste", "the bench's own"))
                                .desired_width(200.0),
                        )
                        .labelled_by(l.id)
                        .changed()
                    {
                        form.settings.printer = p.trim().parse().ok().map(PrinterId);
                    }
                    ui.end_row();
                    ui.label("USB");
                    ui.checkbox(
                        &mut form.settings.usb_scanners,
                        t(
                            "Lire les douchettes USB directement (Linux, sans dépendre du clavier)",
                            "Read USB scanners directly (Linux, whatever the keyboard layout)",
                        ),
                    );
                    ui.end_row();
                    ui.label(t("Langue", "Language"));
                    ui.horizontal(|ui| {
                        ui.selectable_value(&mut form.settings.lang, Lang::Fr, "Français");
                        ui.selectable_value(&mut form.settings.lang, Lang::En, "English");
                    });
                    ui.end_row();
                });
            ui.add_space(14.0);
            if let Some(e) = &form.error {
                ui.colored_label(BAD, e);
            }
            let enter = ui.input(|i| i.key_pressed(Key::Enter));
            if ui
                .button(t(
                    "Enregistrer et démarrer (Entrée)",
                    "Save and start (Enter)",
                ))
                .clicked()
                || enter
            {
                let s = form.settings.clone();
                if !s.is_complete() {
                    form.error = Some(
                        t(
                            "L'adresse du serveur et le jeton du poste sont obligatoires.",
                            "The server address and the bench token are required.",
                        )
                        .to_owned(),
                    );
                } else if !(s.server.starts_with("http://") || s.server.starts_with("https://")) {
                    form.error = Some(
                        t(
                            "L'adresse commence par http:// ou https://",
                            "The address starts with http:// or https://",
                        )
                        .to_owned(),
                    );
                } else {
                    start = Some(s);
                }
            }
        });
        if let Some(s) = start {
            let saved = s.save(&self.dir);
            match saved {
                Ok(()) => self.start(s),
                Err(e) => {
                    if let Screen::Setup(f) = &mut self.screen {
                        f.error = Some(e.to_string());
                    }
                }
            }
        }
    }

    fn bench_ui(&mut self, ui: &mut egui::Ui) {
        let Screen::Bench(bench) = &mut self.screen else {
            return;
        };
        let lang = bench.lang();
        let t = |fr, en| tr(lang, fr, en);
        let mut cmds = Vec::new();
        egui::Panel::top("top").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading(format!("Filière — {}", bench.settings.station.name(lang)));
                ui.separator();
                match &bench.session {
                    Some(s) => ui.label(RichText::new(&s.user.display_name).strong()),
                    None => {
                        ui.colored_label(WARN, t("Personne n'est connecté", "Nobody signed in"))
                    }
                };
                ui.separator();
                match bench.online {
                    Some(true) => ui.colored_label(OK, t("EN LIGNE", "ONLINE")),
                    Some(false) => ui.colored_label(BAD, t("HORS LIGNE", "OFFLINE")),
                    None => ui.colored_label(DIM, "…"),
                };
                ui.separator();
                let waiting = bench.waiting;
                let w = format!(
                    "{waiting} {}",
                    if waiting == 1 {
                        t("action en attente d'envoi", "action waiting to be sent")
                    } else {
                        t("actions en attente d'envoi", "actions waiting to be sent")
                    }
                );
                ui.colored_label(if waiting > 0 { WARN } else { DIM }, w);
            });
            ui.horizontal(|ui| {
                let l = ui.label(t(
                    "Chercher (code, n° de série, n° d'inventaire) :",
                    "Find (code, serial, asset tag):",
                ));
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.forms.search)
                            .id(egui::Id::unique("search"))
                            .desired_width(320.0),
                    )
                    .labelled_by(l.id);
                if r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
                    cmds.push(Cmd::Search(std::mem::take(&mut self.forms.search)));
                }
                if ui.input(|i| i.key_pressed(Key::F3)) {
                    r.request_focus();
                }
            });
            // The message line keeps its place, shown or not: nothing on screen moves
            // under the technician's eyes (or a click).
            let flash = bench
                .flash
                .as_ref()
                .filter(|f| f.since.elapsed().as_secs() < 6);
            let (bg, text) = match flash {
                Some(f) if f.error => (Color32::from_rgb(150, 0, 0), f.text.as_str()),
                Some(f) => (Color32::from_rgb(20, 70, 40), f.text.as_str()),
                None => (Color32::TRANSPARENT, " "),
            };
            egui::Frame::new()
                .fill(bg)
                .inner_margin(8.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.label(
                        RichText::new(text)
                            .color(Color32::WHITE)
                            .size(24.0)
                            .strong(),
                    );
                });
        });
        egui::Panel::bottom("keys").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                for (n, s) in Station::ALL.iter().enumerate() {
                    if ui
                        .selectable_label(
                            bench.settings.station == *s,
                            RichText::new(format!("Alt+{} {}", n + 1, s.name(lang))).size(18.0),
                        )
                        .clicked()
                    {
                        cmds.push(Cmd::SetStation(*s));
                    }
                }
            });
            ui.label(
                RichText::new(key_help(bench.settings.station, lang))
                    .color(DIM)
                    .size(18.0),
            );
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            if bench.session.is_none() {
                ui.add_space(60.0);
                ui.vertical_centered(|ui| {
                    ui.heading(t("Scannez votre badge pour commencer", "Scan your badge to start"));
                    ui.label(RichText::new(t(
                        "Chaque action est enregistrée sur ce poste avant d'être envoyée : rien ne se perd si le réseau tombe.",
                        "Every action is saved on this bench before it is sent: nothing is lost if the network drops.",
                    )).color(DIM));
                });
                return;
            }
            station_header(ui, bench, lang);
            ui.separator();
            match bench.focus.clone() {
                Focus::Nothing => {
                    ui.add_space(30.0);
                    ui.label(RichText::new(t("Scannez une étiquette.", "Scan a label.")).size(30.0));
                }
                Focus::Intake(code) => intake_ui(ui, bench, &mut self.forms, code, &mut cmds),
                Focus::Matches(ids) => {
                    ui.heading(t("Plusieurs articles correspondent :", "Several items match:"));
                    for id in ids {
                        if let Some(k) = bench.known(id) {
                            let text = format!(
                                "{}  {}  {} {}",
                                k.view.code.hyphenated(),
                                k.view.category.name(lang),
                                k.view.brand.clone().unwrap_or_default(),
                                k.view.model.clone().unwrap_or_default()
                            );
                            if ui.button(text).clicked() {
                                cmds.push(Cmd::Search(k.view.code.as_str().to_owned()));
                            }
                        }
                    }
                }
                Focus::Item(id) => {
                    if let Some(k) = bench.known(id).cloned() {
                        ui.columns(2, |cols| {
                            item_card(&mut cols[0], bench, &k, lang);
                            station_panel(&mut cols[1], bench, &mut self.forms, &k, lang, &mut cmds);
                        });
                    }
                }
            }
        });
        });
        self.cmds.extend(cmds);
    }
}

fn station_header(ui: &mut egui::Ui, bench: &Bench, lang: Lang) {
    let t = |fr, en| tr(lang, fr, en);
    match bench.settings.station {
        Station::Reception => {
            ui.horizontal(|ui| {
                ui.label(t("Collecte déchargée :", "Collection being unloaded:"));
                let selected = bench
                    .collections
                    .iter()
                    .find(|c| Some(c.id) == bench.collection)
                    .map(collection_name)
                    .unwrap_or_else(|| t("aucune", "none").to_owned());
                ui.label(RichText::new(selected).strong());
                if let Some((declared, received)) = bench.collection_count() {
                    let colour = if received >= declared { OK } else { WARN };
                    ui.label(
                        RichText::new(format!(
                            "{received} / {declared} {}",
                            t("déclarés", "declared")
                        ))
                        .size(30.0)
                        .color(colour)
                        .strong(),
                    );
                }
            });
        }
        Station::Recycling => {
            ui.horizontal(|ui| match bench.weee_running() {
                Some((b, weight)) => {
                    ui.label(format!(
                        "{} n° {} — {}",
                        t("Lot DEEE ouvert", "Open WEEE batch"),
                        b.id,
                        b.recycler_name
                    ));
                    ui.label(
                        RichText::new(filiere_shared::names::kg_text(weight, lang))
                            .size(30.0)
                            .strong(),
                    );
                }
                None => {
                    ui.colored_label(
                        WARN,
                        t(
                            "Aucun lot DEEE ouvert sur ce site : un coordinateur doit en ouvrir un.",
                            "No open WEEE batch at this site: a coordinator must open one.",
                        ),
                    );
                }
            });
        }
        Station::Teardown => {
            ui.label(format!(
                "{} : {}",
                t("Codes réservés au poste", "Codes kept by this bench"),
                bench.own_codes.len()
            ));
        }
        _ => {}
    }
}

/// A collection as the bench names it: the donor, the pickup's day as on the pages
/// and documents (day/month/year), the reference.
fn collection_name(c: &CollectionView) -> String {
    format!(
        "{} — {}{}",
        c.donor_name,
        c.pickup_date.format("%d/%m/%Y"),
        c.reference
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )
}

fn intake_ui(
    ui: &mut egui::Ui,
    bench: &mut Bench,
    forms: &mut Forms,
    code: LabelCode,
    cmds: &mut Vec<Cmd>,
) {
    let lang = bench.lang();
    let t = |fr, en| tr(lang, fr, en);
    ui.heading(format!(
        "{} {}",
        t("Nouvel appareil —", "New item —"),
        code.hyphenated()
    ));
    let mut choice = bench.collection;
    egui::ComboBox::from_label(t("Collecte", "Collection"))
        .selected_text(
            bench
                .collections
                .iter()
                .find(|c| Some(c.id) == choice)
                .map(collection_name)
                .unwrap_or_else(|| t("sans collecte", "no collection").to_owned()),
        )
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut choice, None, t("sans collecte", "no collection"));
            for c in &bench.collections {
                ui.selectable_value(&mut choice, Some(c.id), collection_name(c));
            }
        });
    bench.collection = choice;
    let f = &mut forms.intake;
    ui.horizontal_wrapped(|ui| {
        ui.label(t("Catégorie :", "Category:"));
        for (n, (_, c)) in INTAKE_KEYS.iter().enumerate() {
            ui.selectable_value(
                &mut f.category,
                Some(*c),
                format!("F{} {}", n + 1, c.name(lang)),
            );
        }
    });
    egui::Grid::new("intake")
        .num_columns(2)
        .spacing([16.0, 10.0])
        .show(ui, |ui| {
            for (label, value, id) in [
                (t("Marque", "Brand"), &mut f.brand, "intake-brand"),
                (t("Modèle", "Model"), &mut f.model, "intake-model"),
                (
                    t("N° de série", "Serial number"),
                    &mut f.serial,
                    "intake-serial",
                ),
                (
                    t("N° d'inventaire du donateur", "Donor asset tag"),
                    &mut f.asset_tag,
                    "intake-asset",
                ),
                (
                    t("Poids (kg)", "Weight (kg)"),
                    &mut f.weight_kg,
                    "intake-weight",
                ),
            ] {
                let l = ui.label(label);
                let r = ui
                    .add(
                        egui::TextEdit::singleline(value)
                            .id(egui::Id::unique(id))
                            .desired_width(360.0),
                    )
                    .labelled_by(l.id);
                if id == "intake-brand" && std::mem::take(&mut forms.focus_brand) {
                    r.request_focus();
                }
                ui.end_row();
            }
            let l = ui.label(t(
                "Disques (un n° de série par ligne)",
                "Drives (one serial per line)",
            ));
            ui.add(
                egui::TextEdit::multiline(&mut f.drives)
                    .id(egui::Id::unique("intake-drives"))
                    .desired_rows(2)
                    .desired_width(360.0),
            )
            .labelled_by(l.id);
            ui.end_row();
            ui.label("");
            ui.checkbox(&mut f.no_drive, t("Aucun disque", "No drive"));
            ui.end_row();
        });
    if ui
        .button(t(
            "Enregistrer et réceptionner (Entrée)",
            "Register and receive (Enter)",
        ))
        .clicked()
    {
        cmds.push(Cmd::Register(code));
    }
}

fn item_card(ui: &mut egui::Ui, bench: &Bench, k: &Known, lang: Lang) {
    let t = |fr, en| tr(lang, fr, en);
    let v = &k.view;
    ui.label(
        RichText::new(v.code.hyphenated())
            .size(44.0)
            .monospace()
            .strong(),
    );
    ui.label(
        RichText::new(format!(
            "{} — {} {}",
            v.category.name(lang),
            v.brand.clone().unwrap_or_default(),
            v.model.clone().unwrap_or_default()
        ))
        .size(28.0),
    );
    let state_colour = match v.state {
        ItemState::Ready | ItemState::TestedGood => OK,
        ItemState::Faulty | ItemState::ToRecycle | ItemState::Destroyed => BAD,
        _ => WARN,
    };
    ui.label(
        RichText::new(v.state.name(lang))
            .size(34.0)
            .color(state_colour)
            .strong(),
    );
    if let Some(h) = &v.hold {
        let until = h
            .until
            .with_timezone(&chrono::Local)
            .format("%d/%m/%Y %H:%M");
        ui.label(
            RichText::new(format!(
                "{} {} — {} {until}",
                t("Réservé pour", "Reserved for"),
                h.reference,
                t("jusqu'au", "until"),
            ))
            .size(22.0)
            .color(WARN),
        );
    }
    if let Some(m) = &v.sale {
        let until = m.guarantee_until.format("%d/%m/%Y");
        let text = match v.state {
            ItemState::Sold => format!(
                "{} {} — {} {until}",
                t("Vendu à", "Sold to"),
                m.buyer,
                t("garanti jusqu'au", "guaranteed until"),
            ),
            _ => format!(
                "{} {} — {} {until}",
                t("Service après-vente pour", "After-sales for"),
                m.buyer,
                t("garanti jusqu'au", "guaranteed until"),
            ),
        };
        ui.label(RichText::new(text).size(22.0).color(WARN));
    }
    if let Some(s) = &v.serial {
        ui.label(format!("{} {s}", t("N° de série", "Serial")));
    }
    if let Some(w) = v.weight_g {
        ui.label(filiere_shared::names::kg_text(w, lang));
    }
    if k.pending > 0 {
        ui.colored_label(
            WARN,
            format!(
                "{} {}",
                k.pending,
                t("action(s) pas encore envoyée(s)", "action(s) not sent yet")
            ),
        );
    }
    if let Some(e) = &k.refused {
        egui::Frame::new()
            .fill(Color32::from_rgb(120, 0, 0))
            .inner_margin(6.0)
            .show(ui, |ui| {
                ui.label(
                    RichText::new(format!(
                        "{} {}",
                        t("Refusé par le serveur :", "Refused by the server:"),
                        e.message
                    ))
                    .strong(),
                );
            });
    }
    if !v.blockers.is_empty() {
        ui.label(
            RichText::new(t(
                "Reste à faire avant « prêt » :",
                "Still to do before \"ready\":",
            ))
            .strong(),
        );
        for b in &v.blockers {
            ui.colored_label(WARN, format!("• {}", b.message));
        }
    }
    if !v.drives.is_empty() {
        ui.label(RichText::new(t("Disques :", "Drives:")).strong());
        for d in &v.drives {
            let c = if d.status.is_sanitised() { OK } else { WARN };
            ui.colored_label(c, format!("• {} — {}", d.serial, d.status.name(lang)));
        }
    } else if v.kind == ItemKind::Device && v.drives_declared {
        ui.label(t("Aucun disque", "No drive"));
    }
    if let Some(p) = v.parent {
        let code = bench
            .known(p)
            .map(|d| d.view.code.hyphenated())
            .unwrap_or_else(|| p.to_string());
        ui.label(format!("{} {code}", t("Montée dans", "Fitted in")));
    }
    ui.add_space(8.0);
    ui.label(RichText::new(t("Dernières étapes", "Last steps")).strong());
    for r in k.recent.iter().rev().take(4) {
        let mark = if r.confirmed {
            t("envoyé", "sent")
        } else {
            t("en attente", "waiting")
        };
        ui.label(format!(
            "{} — {} ({mark})",
            r.at.with_timezone(&chrono::Local).format("%H:%M"),
            r.what.name(lang)
        ));
    }
    if let Some(h) = bench.history.get(&v.id) {
        for e in h.events.iter().rev().take(5) {
            ui.colored_label(
                DIM,
                format!(
                    "{} — {} ({})",
                    e.occurred_at
                        .with_timezone(&chrono::Local)
                        .format("%d/%m %H:%M"),
                    e.payload.event_type().name(lang),
                    e.actor_name.clone().unwrap_or_default()
                ),
            );
        }
    }
}

fn station_panel(
    ui: &mut egui::Ui,
    bench: &Bench,
    forms: &mut Forms,
    k: &Known,
    lang: Lang,
    cmds: &mut Vec<Cmd>,
) {
    let t = |fr, en| tr(lang, fr, en);
    let v = &k.view;
    let id = v.id;
    let button = |ui: &mut egui::Ui, text: String, c: Cmd, cmds: &mut Vec<Cmd>| {
        if ui
            .add(
                egui::Button::new(RichText::new(text).size(24.0)).min_size(egui::vec2(300.0, 44.0)),
            )
            .clicked()
        {
            cmds.push(c);
        }
    };
    match bench.settings.station {
        Station::Reception => {
            if v.state == ItemState::Collected {
                ui.label(t(
                    "Vérifiez que c'est bien cet appareil, puis :",
                    "Check it is this machine, then:",
                ));
                button(
                    ui,
                    t("Entrée — Réceptionner", "Enter — Receive").into(),
                    Cmd::Step(id, Command::Receive { site: None }),
                    cmds,
                );
            } else {
                ui.label(t("Déjà enregistré.", "Already registered."));
            }
        }
        Station::Triage => {
            for (n, r) in [Route::Refurbish, Route::Harvest, Route::Recycle]
                .iter()
                .enumerate()
            {
                button(
                    ui,
                    format!("{} — {}", n + 1, r.name(lang)),
                    Cmd::Step(id, Command::Triage { route: *r }),
                    cmds,
                );
            }
        }
        Station::Erasure => {
            ui.horizontal(|ui| {
                let l = ui.label(t("Outil", "Tool"));
                ui.add(egui::TextEdit::singleline(&mut forms.erasure_tool).desired_width(140.0))
                    .labelled_by(l.id);
                let l = ui.label(t("Méthode", "Method"));
                ui.add(egui::TextEdit::singleline(&mut forms.erasure_method).desired_width(160.0))
                    .labelled_by(l.id);
            });
            ui.horizontal(|ui| {
                let l = ui.label(t("Passes", "Passes"));
                ui.add(egui::DragValue::new(&mut forms.erasure_passes).range(0..=100))
                    .labelled_by(l.id);
                ui.checkbox(&mut forms.erasure_verified, t("vérifié", "verified"));
            });
            ui.horizontal_wrapped(|ui| {
                ui.label(t("Niveau NIST :", "NIST level:"));
                for (level, technique, name) in [
                    (
                        NistLevel::Clear,
                        ErasureTechnique::Overwrite,
                        t("Effacer (écrasement)", "Clear (overwrite)"),
                    ),
                    (
                        NistLevel::Purge,
                        ErasureTechnique::FirmwareSanitize,
                        t("Purger (sanitize)", "Purge (sanitize)"),
                    ),
                    (
                        NistLevel::Purge,
                        ErasureTechnique::CryptoErase,
                        t("Purger (crypto)", "Purge (crypto)"),
                    ),
                ] {
                    if ui
                        .selectable_label(forms.erasure_technique == technique, name)
                        .clicked()
                    {
                        forms.erasure_level = level;
                        forms.erasure_technique = technique;
                    }
                }
            });
            for d in v.drives.iter().filter(|d| !d.status.is_sanitised()) {
                ui.label(RichText::new(&d.serial).monospace().strong());
                ui.horizontal(|ui| {
                    if ui.button(t("E — effacé", "E — erased")).clicked() {
                        cmds.push(Cmd::Step(
                            id,
                            erase_command(forms, &d.serial, ErasureResult::Erased),
                        ));
                    }
                    if ui
                        .button(t("X — échec, détruire", "X — failed, destroy"))
                        .clicked()
                    {
                        cmds.push(Cmd::Step(
                            id,
                            erase_command(forms, &d.serial, ErasureResult::Failed),
                        ));
                        cmds.push(Cmd::Step(id, destroy_command(forms, &d.serial)));
                    }
                    if ui.button(t("D — détruit", "D — destroyed")).clicked() {
                        cmds.push(Cmd::Step(id, destroy_command(forms, &d.serial)));
                    }
                });
            }
            if v.drives.iter().all(|d| d.status.is_sanitised()) {
                ui.colored_label(OK, t("Aucun disque à effacer.", "No drive left to erase."));
            } else {
                ui.horizontal(|ui| {
                    let l = ui.label(t("Journal nwipe", "nwipe log"));
                    ui.add(
                        egui::TextEdit::singleline(&mut forms.nwipe_path)
                            .id(egui::Id::unique("nwipe"))
                            .hint_text("/var/log/nwipe.log")
                            .desired_width(260.0),
                    )
                    .labelled_by(l.id);
                    if ui.button(t("F4 — Importer", "F4 — Import")).clicked() {
                        cmds.push(Cmd::ImportNwipe(id));
                    }
                });
            }
        }
        Station::Teardown => {
            if v.kind == ItemKind::Device {
                ui.horizontal(|ui| {
                    let l = ui.label(t("Caractéristique", "Spec"));
                    ui.add(
                        egui::TextEdit::singleline(&mut forms.spec)
                            .id(egui::Id::unique("spec"))
                            .hint_text("8 Go DDR4")
                            .desired_width(240.0),
                    )
                    .labelled_by(l.id);
                });
                ui.horizontal_wrapped(|ui| {
                    for (n, (_, c)) in HARVEST_KEYS.iter().enumerate() {
                        if ui.button(format!("F{} {}", n + 1, c.name(lang))).clicked() {
                            cmds.push(Cmd::Harvest(id, *c));
                        }
                    }
                });
                button(
                    ui,
                    t("F10 — Démontage terminé", "F10 — Teardown done").into(),
                    Cmd::Step(id, Command::FinishTeardown),
                    cmds,
                );
                for h in bench.harvested.iter().filter(|h| h.device == id) {
                    let (c, s) = if h.confirmed {
                        (OK, t("étiquette posée", "label on"))
                    } else {
                        (
                            WARN,
                            t("scannez l'étiquette imprimée", "scan the printed label"),
                        )
                    };
                    ui.colored_label(
                        c,
                        format!("{} {} — {s}", h.code.hyphenated(), h.category.name(lang)),
                    );
                }
            } else {
                button(
                    ui,
                    t("G — Pièce bonne", "G — Part good").into(),
                    Cmd::Step(
                        id,
                        Command::TestPart {
                            result: PartTestResult::Good,
                            notes: None,
                        },
                    ),
                    cmds,
                );
                button(
                    ui,
                    t("B — Pièce défectueuse", "B — Part faulty").into(),
                    Cmd::Step(
                        id,
                        Command::TestPart {
                            result: PartTestResult::Faulty,
                            notes: None,
                        },
                    ),
                    cmds,
                );
            }
        }
        Station::Repair => match (v.kind, bench.device) {
            (ItemKind::Part, Some(device)) if device != id => {
                let dev = bench
                    .known(device)
                    .map(|d| d.view.code.hyphenated())
                    .unwrap_or_default();
                let (text, c) = if v.parent == Some(device) {
                    (
                        format!("{} {dev}", t("Entrée — Retirer de", "Enter — Remove from")),
                        Command::RemovePart {
                            part: id,
                            part_expected_version: v.version,
                        },
                    )
                } else {
                    (
                        format!("{} {dev}", t("Entrée — Monter dans", "Enter — Fit into")),
                        Command::FitPart {
                            part: id,
                            part_expected_version: v.version,
                        },
                    )
                };
                button(ui, text, Cmd::Step(device, c), cmds);
            }
            _ => {
                ui.label(t(
                    "Scannez l'appareil, puis chaque pièce à monter ou à retirer.",
                    "Scan the device, then each part to fit or remove.",
                ));
            }
        },
        Station::Qa => {
            ui.label(RichText::new(t("Contrôle (touches 1 à 0)", "Checks (keys 1 to 0)")).strong());
            for (n, (check, outcome)) in forms.qa.iter().enumerate() {
                let c = match outcome {
                    QaOutcome::Pass => OK,
                    QaOutcome::Fail => BAD,
                    QaOutcome::NotApplicable => DIM,
                };
                ui.colored_label(
                    c,
                    format!(
                        "{} {} — {}",
                        (n + 1) % 10,
                        check.name(lang),
                        outcome.name(lang)
                    ),
                );
            }
            ui.horizontal(|ui| {
                ui.label(t("Fonctionnel (F1-F3)", "Functional (F1-F3)"));
                for g in [Grade::A, Grade::B, Grade::C] {
                    ui.selectable_value(&mut forms.functional, Some(g), g.name(lang));
                }
            });
            ui.horizontal(|ui| {
                ui.label(t("Esthétique (F5-F7)", "Cosmetic (F5-F7)"));
                for g in [Grade::A, Grade::B, Grade::C] {
                    ui.selectable_value(&mut forms.cosmetic, Some(g), g.name(lang));
                }
            });
            ui.horizontal(|ui| {
                let l = ui.label(t("Système installé", "OS installed"));
                ui.add(
                    egui::TextEdit::singleline(&mut forms.os)
                        .id(egui::Id::unique("os"))
                        .desired_width(240.0),
                )
                .labelled_by(l.id);
            });
            button(
                ui,
                t(
                    "Entrée — Valider, étiquette de vente, prêt",
                    "Enter — Submit, sale label, ready",
                )
                .into(),
                Cmd::QaSubmit(id),
                cmds,
            );
        }
        Station::Recycling => {
            if let Some(batch) = bench.weee_batch {
                button(
                    ui,
                    t(
                        "Entrée — Ajouter au lot DEEE",
                        "Enter — Add to the WEEE batch",
                    )
                    .into(),
                    Cmd::Step(id, Command::AddToWeeeBatch { batch }),
                    cmds,
                );
            }
        }
    }
}

fn key_help(station: Station, lang: Lang) -> String {
    let t = |fr, en| tr(lang, fr, en);
    let specific = match station {
        Station::Reception => t(
            "F1–F8 catégorie · Entrée : enregistrer / réceptionner",
            "F1–F8 category · Enter: register / receive",
        ),
        Station::Triage => t(
            "1 reconditionner · 2 démonter · 3 recycler",
            "1 refurbish · 2 harvest · 3 recycle",
        ),
        Station::Erasure => t(
            "E effacé · X échec puis détruit · D détruit · F4 importer un journal nwipe",
            "E erased · X failed then destroyed · D destroyed · F4 import an nwipe log",
        ),
        Station::Teardown => t(
            "F1–F9 prélever une pièce · F10 démontage terminé · G/B pièce bonne/défectueuse",
            "F1–F9 harvest a part · F10 teardown done · G/B part good/faulty",
        ),
        Station::Repair => t(
            "scanner l'appareil puis la pièce · Entrée monter/retirer",
            "scan the device then the part · Enter fit/remove",
        ),
        Station::Qa => t(
            "1–0 lignes · F1–F3 fonctionnel · F5–F7 esthétique · Entrée valider",
            "1–0 lines · F1–F3 functional · F5–F7 cosmetic · Enter submit",
        ),
        Station::Recycling => t("Entrée : ajouter au lot", "Enter: add to the batch"),
    };
    format!(
        "{specific}   |   {}",
        t(
            "Ctrl+Z annuler · Ctrl+R nouvelle étiquette · F3 chercher · Échap effacer · Alt+1…7 poste · F11 réglages · F12 English",
            "Ctrl+Z undo · Ctrl+R new label · F3 find · Esc clear · Alt+1…7 station · F11 settings · F12 Français"
        )
    )
}
