//! What may be registered: properties, areas, customers, gateways and meters, with the
//! validation rules of each input (parse, don't validate: a `NewMeter` is always valid).

use dlt645::Address;

use super::Invalid;
use super::ids::{AreaId, CustomerId, GatewayId, PropertyId};

/// How a meter reaches the platform (F3, F9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    FourG,
    LoraGateway,
    Serial,
}

impl LinkType {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkType::FourG => "FOUR_G",
            LinkType::LoraGateway => "LORA_GATEWAY",
            LinkType::Serial => "SERIAL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [LinkType::FourG, LinkType::LoraGateway, LinkType::Serial].into_iter().find(|l| l.as_str() == s)
    }
}

/// Who keeps the balance (F12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingMode {
    PlatformPrepaid,
    MeterPrepaid,
    PostPaid,
}

impl BillingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::PlatformPrepaid => "PLATFORM_PREPAID",
            BillingMode::MeterPrepaid => "METER_PREPAID",
            BillingMode::PostPaid => "POST_PAID",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [BillingMode::PlatformPrepaid, BillingMode::MeterPrepaid, BillingMode::PostPaid].into_iter().find(|b| b.as_str() == s)
    }
}

fn name(field: &'static str, text: &str, max: usize) -> Result<String, Invalid> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(Invalid::new(field, format!("at most {max} characters")));
    }
    Ok(t.to_string())
}

#[derive(Debug, Clone)]
pub struct NewProperty {
    pub name: String,
    pub address: String,
    /// Whom customers call (物业联系人), shown in their app; may be empty.
    pub contact_name: String,
    /// Their telephone: digits with `+ - ( )` and spaces, at most 30 characters; may be empty.
    pub contact_phone: String,
}

impl NewProperty {
    pub fn parse(name_text: &str, address: &str) -> Result<Self, Invalid> {
        Ok(Self {
            name: name("name", name_text, 100)?,
            address: address.trim().chars().take(200).collect(),
            contact_name: String::new(),
            contact_phone: String::new(),
        })
    }

    /// The contact customers see.
    pub fn with_contact(mut self, contact_name: &str, contact_phone: &str) -> Result<Self, Invalid> {
        let contact_name = contact_name.trim();
        if contact_name.chars().count() > 50 {
            return Err(Invalid::new("contactName", "at most 50 characters"));
        }
        let phone = contact_phone.trim();
        let allowed = |c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' ');
        if phone.chars().count() > 30 || !phone.chars().all(allowed) || (!phone.is_empty() && !phone.chars().any(|c| c.is_ascii_digit())) {
            return Err(Invalid::new("contactPhone", "a telephone number: digits, + - ( ) and spaces, at most 30"));
        }
        self.contact_name = contact_name.to_string();
        self.contact_phone = phone.to_string();
        Ok(self)
    }
}

#[derive(Debug, Clone)]
pub struct NewArea {
    pub property: PropertyId,
    pub name: String,
    /// Floor area in hundredths of m² (used for shared-area allocation).
    pub floor_area_x100: Option<i64>,
}

impl NewArea {
    pub fn parse(property: PropertyId, name_text: &str, floor_area: Option<rust_decimal::Decimal>) -> Result<Self, Invalid> {
        let floor_area_x100 = match floor_area {
            None => None,
            Some(a) if a.is_sign_negative() => return Err(Invalid::new("floorArea", "must not be negative")),
            Some(a) => Some(super::metering::to_scaled(a, 2).ok_or_else(|| Invalid::new("floorArea", "at most 2 decimal places"))?),
        };
        Ok(Self { property, name: name("name", name_text, 100)?, floor_area_x100 })
    }
}

#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub name: String,
    pub phone: String,
    pub shop_no: String,
}

impl NewCustomer {
    pub fn parse(name_text: &str, phone: &str, shop_no: &str) -> Result<Self, Invalid> {
        let phone = phone.trim();
        let well_formed = (5..=20).contains(&phone.len()) && phone.chars().all(|c| c.is_ascii_digit() || c == '+' || c == '-');
        if !phone.is_empty() && !well_formed {
            return Err(Invalid::new("phone", "digits, '+' and '-' only (5 to 20)"));
        }
        Ok(Self { name: name("name", name_text, 100)?, phone: phone.to_string(), shop_no: shop_no.trim().chars().take(40).collect() })
    }
}

#[derive(Debug, Clone)]
pub struct NewGateway {
    pub property: PropertyId,
    pub serial: String,
    pub name: String,
}

impl NewGateway {
    pub fn parse(property: PropertyId, serial: &str, name_text: &str) -> Result<Self, Invalid> {
        let serial = name("serial", serial, 64)?;
        if !serial.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(Invalid::new("serial", "letters, digits, '-' and '_' only"));
        }
        Ok(Self { property, serial, name: name_text.trim().chars().take(100).collect() })
    }
}

/// Changes to a registered meter (address, phases and link never change: replace the meter).
#[derive(Debug, Clone)]
pub struct MeterPatch {
    pub area: Option<AreaId>,
    pub customer: Option<CustomerId>,
    pub model: String,
    pub pt_ratio: i64,
    pub ct_ratio: i64,
    pub shop_no: String,
}

#[derive(Debug, Clone)]
pub struct NewMeter {
    pub property: PropertyId,
    pub area: Option<AreaId>,
    pub customer: Option<CustomerId>,
    pub gateway: Option<GatewayId>,
    pub address: Address,
    pub model: String,
    pub phases: u8,
    pub pt_ratio: i64,
    pub ct_ratio: i64,
    pub link: LinkType,
    pub billing: BillingMode,
    pub shop_no: String,
}

/// Raw meter input as the API receives it.
#[derive(Debug, Clone, Default)]
pub struct MeterInput {
    pub address: String,
    pub model: String,
    pub phases: i32,
    pub pt_ratio: Option<i32>,
    pub ct_ratio: Option<i32>,
    pub link_type: String,
    pub billing_mode: Option<String>,
    pub shop_no: String,
}

pub fn ratio(field: &'static str, v: Option<i32>) -> Result<i64, Invalid> {
    match v {
        None => Ok(1),
        Some(r) if (1..=100_000).contains(&r) => Ok(i64::from(r)),
        Some(_) => Err(Invalid::new(field, "must be between 1 and 100000")),
    }
}

impl NewMeter {
    pub fn parse(
        property: PropertyId,
        area: Option<AreaId>,
        customer: Option<CustomerId>,
        gateway: Option<GatewayId>,
        input: &MeterInput,
    ) -> Result<Self, Invalid> {
        let address = Address::parse(&input.address).map_err(|e| Invalid::new("address", e.to_string()))?;
        if address.has_wildcard() || address.is_broadcast() {
            return Err(Invalid::new("address", "a wildcard or broadcast address cannot name one meter"));
        }
        let phases = match input.phases {
            1 => 1,
            3 => 3,
            _ => return Err(Invalid::new("phases", "must be 1 or 3")),
        };
        let link = LinkType::parse(&input.link_type).ok_or_else(|| Invalid::new("linkType", "FOUR_G, LORA_GATEWAY or SERIAL"))?;
        match (link, &gateway) {
            (LinkType::LoraGateway, None) => return Err(Invalid::new("gatewayId", "a LORA_GATEWAY meter needs its gateway")),
            // A SERIAL meter's gateway is the serial server its RS-485 bus hangs on (F9).
            (LinkType::FourG, Some(_)) => {
                return Err(Invalid::new("gatewayId", "a FOUR_G meter has its own login, not a gateway"));
            }
            _ => {}
        }
        let billing = match &input.billing_mode {
            None => BillingMode::PlatformPrepaid,
            Some(b) => BillingMode::parse(b).ok_or_else(|| Invalid::new("billingMode", "PLATFORM_PREPAID, METER_PREPAID or POST_PAID"))?,
        };
        Ok(Self {
            property,
            area,
            customer,
            gateway,
            address,
            model: input.model.trim().chars().take(60).collect(),
            phases,
            pt_ratio: ratio("ptRatio", input.pt_ratio)?,
            ct_ratio: ratio("ctRatio", input.ct_ratio)?,
            link,
            billing,
            shop_no: input.shop_no.trim().chars().take(40).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn property() -> PropertyId {
        PropertyId::from_uuid(uuid::Uuid::nil())
    }

    #[test]
    fn meter_input_errors_name_the_field() {
        let good = MeterInput { address: "000000000161".into(), phases: 3, link_type: "FOUR_G".into(), ..Default::default() };
        assert!(NewMeter::parse(property(), None, None, None, &good).is_ok());
        let cases = [
            (MeterInput { address: "12".into(), ..good.clone() }, "address"),
            (MeterInput { address: "999999999999".into(), ..good.clone() }, "address"),
            (MeterInput { phases: 2, ..good.clone() }, "phases"),
            (MeterInput { link_type: "WIFI".into(), ..good.clone() }, "linkType"),
            (MeterInput { link_type: "LORA_GATEWAY".into(), ..good.clone() }, "gatewayId"),
            (MeterInput { ct_ratio: Some(0), ..good.clone() }, "ctRatio"),
            (MeterInput { billing_mode: Some("FREE".into()), ..good.clone() }, "billingMode"),
        ];
        for (input, field) in cases {
            assert_eq!(NewMeter::parse(property(), None, None, None, &input).unwrap_err().field, field);
        }
    }
}
