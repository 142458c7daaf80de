"""XML as CyberTipline clients send it (shape of the public documentation's example)."""

MINIMAL_REPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<report xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:noNamespaceSchemaLocation="https://report.cybertip.org/ispws/xsd">
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <reportAnnotations>
      <sextortion/>
    </reportAnnotations>
    <incidentDateTime>2025-10-15T08:00:00-07:00</incidentDateTime>
  </incidentSummary>
  <internetDetails>
    <webPageIncident thirdPartyHostedContent="false">
      <url>https://www.example.com/page/7</url>
    </webPageIncident>
  </internetDetails>
  <reporter>
    <reportingPerson>
      <firstName>Riley</firstName>
      <lastName>Reporter</lastName>
      <email verified="true">riley@example.com</email>
    </reportingPerson>
  </reporter>
  <personOrUserReported>
    <screenName>alex42</screenName>
    <ipCaptureEvent>
      <ipAddress>81.2.69.160</ipAddress>
      <eventName>Upload</eventName>
      <dateTime>2025-10-15T08:00:00Z</dateTime>
    </ipCaptureEvent>
  </personOrUserReported>
</report>
"""


def file_details(report_id: int, file_id: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<fileDetails>
  <reportId>{report_id}</reportId>
  <fileId>{file_id}</fileId>
  <originalFileName>holiday.jpg</originalFileName>
  <fileViewedByEsp>true</fileViewedByEsp>
  <fileAnnotations><viral/></fileAnnotations>
  <industryClassification>A1</industryClassification>
  <originalFileHash hashType="MD5">{"a" * 32}</originalFileHash>
  <ipCaptureEvent><ipAddress>5.9.0.1</ipAddress><eventName>Upload</eventName></ipCaptureEvent>
  <details type="EXIF"><nameValuePair><name>Make</name><value>Example</value></nameValuePair></details>
</fileDetails>
""".encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE report [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<report><additionalInfo>&lol3;</additionalInfo></report>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE report [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<report><additionalInfo>&secret;</additionalInfo></report>
"""

DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE report SYSTEM "https://www.example.com/report.dtd">
<report/>
"""
