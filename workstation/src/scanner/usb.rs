//! Reading scanners directly over USB (Linux, libusb through rusb), whatever the PC's
//! keyboard layout: HID boot-keyboard scanners and HID point-of-sale scanners (usage
//! page 0x8C). Scanners come and go: the bus is looked at again every second, behind
//! the [`UsbBus`] trait, so that plugging, unplugging and permissions are tested
//! without hardware.

use super::hid::{BootKeyboard, HidEvent, PosLayout, PosScanner};
use super::{Burst, classify};
use std::collections::HashMap;
use std::time::Duration;

/// How a scanner speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    BootKeyboard,
    PointOfSale,
}

/// A scanner seen on the bus.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScannerInfo {
    /// Bus and address: unique while plugged in.
    pub key: String,
    pub name: String,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsbError {
    /// The device files are there but this user may not open them.
    #[error("permission denied")]
    Access,
    /// No USB access on this machine (no /dev/bus/usb, no libusb backend).
    #[error("no USB access: {0}")]
    Unavailable(String),
    /// The scanner went away.
    #[error("the scanner was unplugged")]
    Gone,
    #[error("{0}")]
    Other(String),
}

/// Reads a scanner's input reports.
pub trait ReportReader: Send {
    /// The next report, or `None` when none came within `timeout`.
    fn read(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, UsbError>;
}

/// The USB bus, as far as scanners go.
pub trait UsbBus: Send {
    fn scanners(&mut self) -> Result<Vec<ScannerInfo>, UsbError>;
    fn open(&mut self, scanner: &ScannerInfo) -> Result<Box<dyn ReportReader>, UsbError>;
}

/// What the bench hears from its USB scanners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsbEvent {
    Connected(String),
    Disconnected(String),
    Scan(Burst),
    /// Something to tell the technician (permissions, no USB access).
    Problem(String),
}

/// The udev rule that lets the bench's user read a scanner (here Honeywell's vendor
/// id, 0c2e; the message names the scanner's own `vendor:product`).
pub const UDEV_RULE: &str = r#"SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="0c2e", MODE="0660", GROUP="plugdev""#;

/// The message shown when the bench may not open a scanner.
pub fn access_message(name: &str) -> String {
    format!(
        "Scanner USB « {name} » : accès refusé. Ajoutez l'utilisateur du poste au groupe \
         plugdev et la règle udev /etc/udev/rules.d/70-filiere-scanners.rules : {UDEV_RULE} \
         (puis « udevadm control --reload » et rebranchez la douchette). \
         En attendant, la douchette fonctionne comme un clavier."
    )
}

enum Decoder {
    Boot(BootKeyboard),
    Pos(PosScanner),
}

impl Decoder {
    fn report(&mut self, r: &[u8]) -> Option<HidEvent> {
        match self {
            Decoder::Boot(d) => d.report(r),
            Decoder::Pos(d) => d.report(r),
        }
    }
}

struct Open {
    info: ScannerInfo,
    reader: Box<dyn ReportReader>,
    decoder: Decoder,
}

/// Watches the bus: opens scanners as they are plugged in, decodes their reports,
/// forgets them when they go.
pub struct UsbScanners<B: UsbBus> {
    bus: B,
    open: HashMap<String, Open>,
    /// Scanners refused (permissions): told once, tried again when re-plugged.
    refused: HashMap<String, ScannerInfo>,
    told_unavailable: bool,
}

impl<B: UsbBus> UsbScanners<B> {
    pub fn new(bus: B) -> Self {
        UsbScanners {
            bus,
            open: HashMap::new(),
            refused: HashMap::new(),
            told_unavailable: false,
        }
    }

    /// Looks at the bus again: new scanners are opened, gone ones forgotten.
    pub fn rescan(&mut self) -> Vec<UsbEvent> {
        let mut out = Vec::new();
        let found = match self.bus.scanners() {
            Ok(f) => f,
            Err(e) => {
                if !self.told_unavailable {
                    self.told_unavailable = true;
                    out.push(UsbEvent::Problem(format!(
                        "Lecture USB directe impossible ({e}) : la douchette fonctionne comme un clavier."
                    )));
                }
                return out;
            }
        };
        let keys: Vec<&String> = found.iter().map(|s| &s.key).collect();
        let gone: Vec<String> = self
            .open
            .keys()
            .filter(|k| !keys.contains(k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(o) = self.open.remove(&k) {
                out.push(UsbEvent::Disconnected(o.info.name));
            }
        }
        self.refused.retain(|k, _| keys.contains(&k));
        for info in found {
            if self.open.contains_key(&info.key) || self.refused.contains_key(&info.key) {
                continue;
            }
            match self.bus.open(&info) {
                Ok(reader) => {
                    let decoder = match info.protocol {
                        Protocol::BootKeyboard => Decoder::Boot(BootKeyboard::new()),
                        Protocol::PointOfSale => {
                            Decoder::Pos(PosScanner::new(PosLayout::default()))
                        }
                    };
                    out.push(UsbEvent::Connected(info.name.clone()));
                    self.open.insert(
                        info.key.clone(),
                        Open {
                            info,
                            reader,
                            decoder,
                        },
                    );
                }
                Err(UsbError::Access) => {
                    out.push(UsbEvent::Problem(access_message(&info.name)));
                    self.refused.insert(info.key.clone(), info);
                }
                Err(e) => out.push(UsbEvent::Problem(format!("{}: {e}", info.name))),
            }
        }
        out
    }

    /// Reads what the open scanners sent, waiting at most `timeout` on each.
    pub fn read(&mut self, timeout: Duration) -> Vec<UsbEvent> {
        let mut out = Vec::new();
        let mut gone = Vec::new();
        for (k, o) in &mut self.open {
            loop {
                match o.reader.read(timeout) {
                    Ok(Some(r)) => {
                        if let Some(HidEvent::Scan(text)) = o.decoder.report(&r) {
                            out.push(UsbEvent::Scan(classify(&text)));
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        gone.push(k.clone());
                        break;
                    }
                }
            }
        }
        for k in gone {
            if let Some(o) = self.open.remove(&k) {
                out.push(UsbEvent::Disconnected(o.info.name));
            }
        }
        out
    }

    pub fn connected(&self) -> Vec<String> {
        self.open.values().map(|o| o.info.name.clone()).collect()
    }
}

/// Watches `bus` on a thread of its own: the bus again every second, the scanners
/// continuously; `notify` is called after each event (to repaint the screen).
pub fn spawn<B: UsbBus + 'static>(
    bus: B,
    notify: std::sync::Arc<dyn Fn() + Send + Sync>,
) -> std::io::Result<std::sync::mpsc::Receiver<UsbEvent>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("filiere-usb".into())
        .spawn(move || {
            let mut s = UsbScanners::new(bus);
            let mut last = std::time::Instant::now() - Duration::from_secs(2);
            loop {
                let mut events = Vec::new();
                if last.elapsed() >= Duration::from_secs(1) {
                    events.extend(s.rescan());
                    last = std::time::Instant::now();
                }
                events.extend(s.read(Duration::from_millis(20)));
                for e in events {
                    if tx.send(e).is_err() {
                        return; // the app has closed
                    }
                    notify();
                }
                if s.connected().is_empty() {
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        })?;
    Ok(rx)
}

/// The real bus, through libusb.
pub mod libusb {
    use super::*;
    use rusb::UsbContext;

    pub struct RusbBus {
        ctx: Option<rusb::Context>,
        devices: HashMap<String, (rusb::Device<rusb::Context>, u8, u8)>,
    }

    impl RusbBus {
        pub fn new() -> RusbBus {
            RusbBus {
                // rusb::devices() panics without /dev/bus/usb; a context is an error.
                ctx: rusb::Context::new().ok(),
                devices: HashMap::new(),
            }
        }
    }

    impl Default for RusbBus {
        fn default() -> Self {
            RusbBus::new()
        }
    }

    fn err(e: rusb::Error) -> UsbError {
        match e {
            rusb::Error::Access => UsbError::Access,
            rusb::Error::NoDevice | rusb::Error::NotFound => UsbError::Gone,
            other => UsbError::Other(other.to_string()),
        }
    }

    impl UsbBus for RusbBus {
        fn scanners(&mut self) -> Result<Vec<ScannerInfo>, UsbError> {
            let ctx = self
                .ctx
                .as_ref()
                .ok_or_else(|| UsbError::Unavailable("libusb".into()))?;
            let list = ctx
                .devices()
                .map_err(|e| UsbError::Unavailable(e.to_string()))?;
            let mut out = Vec::new();
            self.devices.clear();
            for dev in list.iter() {
                let Ok(config) = dev.active_config_descriptor() else {
                    continue;
                };
                for iface in config.interfaces() {
                    for alt in iface.descriptors() {
                        if alt.class_code() != 0x03 {
                            continue;
                        }
                        // Boot keyboards say so; a HID interface that is not a boot
                        // device and comes from a scanner maker is taken for HID POS.
                        let protocol = if alt.sub_class_code() == 1 && alt.protocol_code() == 1 {
                            Protocol::BootKeyboard
                        } else if alt.sub_class_code() == 0 && alt.protocol_code() == 0 {
                            Protocol::PointOfSale
                        } else {
                            continue;
                        };
                        let Some(ep) = alt.endpoint_descriptors().find(|e| {
                            e.direction() == rusb::Direction::In
                                && e.transfer_type() == rusb::TransferType::Interrupt
                        }) else {
                            continue;
                        };
                        let key = format!(
                            "{:03}:{:03}:{}",
                            dev.bus_number(),
                            dev.address(),
                            alt.interface_number()
                        );
                        let name = dev
                            .device_descriptor()
                            .map(|d| format!("{:04x}:{:04x}", d.vendor_id(), d.product_id()))
                            .unwrap_or_else(|_| key.clone());
                        self.devices.insert(
                            key.clone(),
                            (dev.clone(), alt.interface_number(), ep.address()),
                        );
                        out.push(ScannerInfo {
                            key,
                            name,
                            protocol,
                        });
                    }
                }
            }
            Ok(out)
        }

        fn open(&mut self, s: &ScannerInfo) -> Result<Box<dyn ReportReader>, UsbError> {
            let (dev, iface, ep) = self.devices.get(&s.key).cloned().ok_or(UsbError::Gone)?;
            let handle = dev.open().map_err(err)?;
            // The kernel's keyboard driver holds a boot keyboard: take it over (the
            // scanner no longer types into the window while the bench reads it).
            if handle.kernel_driver_active(iface).unwrap_or(false) {
                handle.detach_kernel_driver(iface).map_err(err)?;
            }
            handle.claim_interface(iface).map_err(err)?;
            Ok(Box::new(Reader { handle, ep }))
        }
    }

    struct Reader {
        handle: rusb::DeviceHandle<rusb::Context>,
        ep: u8,
    }

    impl ReportReader for Reader {
        fn read(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, UsbError> {
            let mut buf = [0u8; 64];
            match self.handle.read_interrupt(self.ep, &mut buf, timeout) {
                Ok(n) => Ok(Some(buf[..n].to_vec())),
                Err(rusb::Error::Timeout) => Ok(None),
                Err(e) => Err(err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use filiere_shared::code::Scan;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    /// A bus whose devices and reports the test sets.
    #[derive(Clone, Default)]
    struct FakeBus {
        devices: Arc<Mutex<Vec<ScannerInfo>>>,
        reports: Arc<Mutex<HashMap<String, VecDeque<Vec<u8>>>>>,
        denied: Arc<Mutex<Vec<String>>>,
        unavailable: bool,
    }

    struct FakeReader {
        key: String,
        bus: FakeBus,
    }

    impl ReportReader for FakeReader {
        fn read(&mut self, _: Duration) -> Result<Option<Vec<u8>>, UsbError> {
            if !self
                .bus
                .devices
                .lock()
                .expect("lock")
                .iter()
                .any(|d| d.key == self.key)
            {
                return Err(UsbError::Gone);
            }
            Ok(self
                .bus
                .reports
                .lock()
                .expect("lock")
                .get_mut(&self.key)
                .and_then(VecDeque::pop_front))
        }
    }

    impl UsbBus for FakeBus {
        fn scanners(&mut self) -> Result<Vec<ScannerInfo>, UsbError> {
            if self.unavailable {
                return Err(UsbError::Unavailable("no /dev/bus/usb".into()));
            }
            Ok(self.devices.lock().expect("lock").clone())
        }
        fn open(&mut self, s: &ScannerInfo) -> Result<Box<dyn ReportReader>, UsbError> {
            if self.denied.lock().expect("lock").contains(&s.key) {
                return Err(UsbError::Access);
            }
            Ok(Box::new(FakeReader {
                key: s.key.clone(),
                bus: self.clone(),
            }))
        }
    }

    fn fixture(name: &str) -> Vec<Vec<u8>> {
        let path = format!("{}/../fixtures/scanner/{name}", env!("CARGO_MANIFEST_DIR"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        v["reports"]
            .as_array()
            .expect("reports")
            .iter()
            .map(|h| {
                let h = h.as_str().expect("hex");
                (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
                    .collect()
            })
            .collect()
    }

    fn scanner(key: &str, protocol: Protocol) -> ScannerInfo {
        ScannerInfo {
            key: key.into(),
            name: format!("scanner {key}"),
            protocol,
        }
    }

    #[test]
    fn scanners_are_read_as_they_are_plugged_and_forgotten_when_unplugged() {
        let bus = FakeBus::default();
        let mut s = UsbScanners::new(bus.clone());
        assert!(s.rescan().is_empty());

        // A boot-keyboard scanner is plugged in, then a HID POS one.
        bus.devices
            .lock()
            .expect("lock")
            .push(scanner("001:004:0", Protocol::BootKeyboard));
        bus.reports
            .lock()
            .expect("lock")
            .insert("001:004:0".into(), fixture("boot-keyboard-url.json").into());
        assert_eq!(
            s.rescan(),
            vec![UsbEvent::Connected("scanner 001:004:0".into())]
        );
        let got = s.read(Duration::ZERO);
        assert!(
            matches!(
                got.as_slice(),
                [UsbEvent::Scan(Burst::Captured {
                    scan: Scan::Label(_),
                    ..
                })]
            ),
            "{got:?}"
        );
        bus.devices
            .lock()
            .expect("lock")
            .push(scanner("001:005:0", Protocol::PointOfSale));
        bus.reports
            .lock()
            .expect("lock")
            .insert("001:005:0".into(), fixture("pos-qr-url.json").into());
        assert_eq!(
            s.rescan(),
            vec![UsbEvent::Connected("scanner 001:005:0".into())]
        );
        assert!(matches!(
            s.read(Duration::ZERO).as_slice(),
            [UsbEvent::Scan(Burst::Captured { .. })]
        ));

        // Unplugged while reading: forgotten, said once.
        bus.devices
            .lock()
            .expect("lock")
            .retain(|d| d.key != "001:004:0");
        assert_eq!(
            s.read(Duration::ZERO),
            vec![UsbEvent::Disconnected("scanner 001:004:0".into())]
        );
        assert!(s.rescan().is_empty());
        assert_eq!(s.connected(), vec!["scanner 001:005:0".to_owned()]);
    }

    #[test]
    fn missing_permissions_say_which_udev_rule_to_add_once() {
        let bus = FakeBus::default();
        bus.devices
            .lock()
            .expect("lock")
            .push(scanner("001:007:0", Protocol::BootKeyboard));
        bus.denied.lock().expect("lock").push("001:007:0".into());
        let mut s = UsbScanners::new(bus.clone());
        let first = s.rescan();
        assert!(
            matches!(first.as_slice(), [UsbEvent::Problem(m)] if m.contains("udev") && m.contains("plugdev")),
            "{first:?}"
        );
        assert!(s.rescan().is_empty(), "told once");
        // Re-plugged after the rule is added: opened.
        bus.devices.lock().expect("lock").clear();
        s.rescan();
        bus.denied.lock().expect("lock").clear();
        bus.devices
            .lock()
            .expect("lock")
            .push(scanner("001:007:0", Protocol::BootKeyboard));
        assert_eq!(
            s.rescan(),
            vec![UsbEvent::Connected("scanner 001:007:0".into())]
        );

        let mut none = UsbScanners::new(FakeBus {
            unavailable: true,
            ..FakeBus::default()
        });
        assert!(matches!(none.rescan().as_slice(), [UsbEvent::Problem(_)]));
        assert!(none.rescan().is_empty());
    }

    #[test]
    fn the_real_bus_is_an_error_not_a_panic_without_usb() {
        // On a machine without /dev/bus/usb this is an error; with it, a list.
        let mut bus = libusb::RusbBus::new();
        match bus.scanners() {
            Ok(_) | Err(UsbError::Unavailable(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
}
