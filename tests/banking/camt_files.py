"""camt.053 statements written by the tests, in version 001.02 or 001.08 (their differences
that matter here: `Sts` a code or a `Cd` element, a party's name under `Pty` or not)."""

from dataclasses import dataclass
from xml.sax.saxutils import escape

NETWORK_IBAN = "IT60X0542811101000000123456"


@dataclass
class Entry:
    amount: str
    credit: bool = True
    ref: str = ""
    remittance: str = ""
    name: str = ""
    iban: str = ""
    reversal: bool = False
    booked: str = "2026-12-03"
    value: str = "2026-12-03"
    family: str = "RCDT-ESCT"
    returned: bool = False


def _entry(entry: Entry, version: str) -> str:
    later = version != "001.02"
    status = "<Sts><Cd>BOOK</Cd></Sts>" if later else "<Sts>BOOK</Sts>"
    role = "Dbtr" if entry.credit else "Cdtr"
    name = escape(entry.name)
    party = (
        f"<{role}><Pty><Nm>{name}</Nm></Pty></{role}>"
        if later
        else (f"<{role}><Nm>{name}</Nm></{role}>")
    )
    account = f"<{role}Acct><Id><IBAN>{entry.iban}</IBAN></Id></{role}Acct>" if entry.iban else ""
    family, sub = entry.family.split("-")
    rtr = "<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>" if entry.returned else ""
    return f"""
    <Ntry>
      <Amt Ccy="EUR">{entry.amount}</Amt>
      <CdtDbtInd>{"CRDT" if entry.credit else "DBIT"}</CdtDbtInd>
      {"<RvslInd>true</RvslInd>" if entry.reversal else ""}
      {status}
      <BookgDt><Dt>{entry.booked}</Dt></BookgDt>
      <ValDt><Dt>{entry.value}</Dt></ValDt>
      <AcctSvcrRef>{entry.ref}</AcctSvcrRef>
      <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly>
      </Domn></BkTxCd>
      <NtryDtls><TxDtls>
        <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
        <RltdPties>{party}{account}</RltdPties>
        <RmtInf><Ustrd>{escape(entry.remittance)}</Ustrd></RmtInf>
        {rtr}
      </TxDtls></NtryDtls>
    </Ntry>"""


def camt053(
    entries: list[Entry],
    *,
    version: str = "001.02",
    statement_id: str = "STMT-1",
    iban: str = NETWORK_IBAN,
) -> bytes:
    body = "".join(_entry(e, version) for e in entries)
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.{version}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-{statement_id}</MsgId><CreDtTm>2026-12-04T08:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{statement_id}</Id>
      <CreDtTm>2026-12-04T08:00:00</CreDtTm>
      <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      {body}
    </Stmt>
  </BkToCstmrStmt>
</Document>"""
    return xml.encode("utf-8")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Id>&lol3;</Id></Stmt></BkToCstmrStmt></Document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>"""
