"""Built-in column mappings for CRM exports, ``{"source column": "field"}`` per kind.

Salesforce: the weekly Data Export (Setup → Data Export) writes one CSV per object whose header is the objects'
API field names (``Id``, ``Name``, ``ParentId``, ``BillingCountry``, ``OwnerId``...), as listed in Salesforce's
object and field reference (Account, Contact, Contract, Task). HubSpot: an export from a records index page writes
property labels (``Record ID``, ``Company name``, ``Company Domain Name``...), as in HubSpot's default properties.
The column names were taken from those references; where a CRM has no standard field for one of ours, the preset
leaves it to the person mapping the file:

- Salesforce ``OwnerId`` and HubSpot's owner columns name CRM users (an 18-character id, a display name), not
  users of this platform, so owners are left unmapped: map a column of usernames or e-mails instead.
- Salesforce's Contract has no amount field: ``Amount`` (the Opportunity's, present when contracts are exported with
  their opportunity) is mapped to the recurring value; a custom field (``..._c``) is mapped by hand.
- No exchange-rate preset: Salesforce's ``ConversionRate`` is the inverse of ours (units of the currency per
  corporate-currency unit) and mapping it straight would be wrong.
"""

from ..models import ImportKind

SALESFORCE = "salesforce"
HUBSPOT = "hubspot"

PRESETS: dict[str, dict[str, dict[str, str]]] = {
    SALESFORCE: {
        ImportKind.ACCOUNTS: {
            "Id": "external_id",
            "Name": "name",
            "Website": "domain",
            "Industry": "industry",
            "BillingCountry": "region",
            "ParentId": "parent",
            "OwnerId": "",
            "Type": "",
        },
        ImportKind.CONTACTS: {
            "Id": "external_id",
            "AccountId": "account",
            "FirstName": "first_name",
            "LastName": "last_name",
            "Email": "email",
            "Title": "title",
        },
        ImportKind.CONTRACTS: {
            "Id": "external_id",
            "AccountId": "account",
            "StartDate": "start_date",
            "EndDate": "end_date",
            "CurrencyIsoCode": "currency",
            "Amount": "recurring_tcv",
            "Status": "status",
            "ContractTerm": "",
            "ContractNumber": "",
        },
        ImportKind.ACTIVITIES: {
            "WhatId": "account",
            "WhoId": "contact",
            "TaskSubtype": "kind",
            "ActivityDate": "occurred_at",
            "Subject": "subject",
            "Description": "body",
        },
    },
    HUBSPOT: {
        ImportKind.ACCOUNTS: {
            "Record ID": "external_id",
            "Company name": "name",
            "Company Domain Name": "domain",
            "Industry": "industry",
            "Country/Region": "region",
            "Parent Company ID": "parent",
            "Company owner": "",
        },
        ImportKind.CONTACTS: {
            "Record ID": "external_id",
            "Associated Company ID": "account",
            "Primary Associated Company ID": "account",
            "First Name": "first_name",
            "Last Name": "last_name",
            "Email": "email",
            "Job Title": "title",
        },
        ImportKind.CONTRACTS: {
            "Record ID": "external_id",
            "Associated Company ID": "account",
            "Primary Associated Company ID": "account",
            "Amount": "recurring_tcv",
            "Currency": "currency",
            "Deal Type": "kind",
            "Contract Start Date": "start_date",
            "Contract End Date": "end_date",
        },
    },
}
