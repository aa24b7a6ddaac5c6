"""URLs and resource IDs: of an HSM, of a blob container and of a backup folder in it."""

import ipaddress
import re
from urllib.parse import urlsplit

from azext_hsmbackup._constants import MANAGED_HSM_RESOURCE_TYPE
from azext_hsmbackup._text import shown
from azext_hsmbackup.model.folders import check_folder_name
from azext_hsmbackup.model.names import (
    CONTAINER_NAME_RE,
    DNS_LABEL_RE,
    PROVIDER_RE,
    RESOURCE_GROUP_RE,
    RESOURCE_TYPE_RE,
    SUBSCRIPTION_RE,
    check_account_name,
    check_container_name,
    check_hsm_name,
    check_text,
)
from azext_hsmbackup.model.problems import InvalidValue

MAX_URL_CHARS = 2048


HSM_RESOURCE_ID_FORM = (
    "/subscriptions/SUBSCRIPTION-ID/resourceGroups/GROUP/providers/Microsoft.KeyVault/managedHSMs/NAME"
)


def _is_ip_or_localhost(host):
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def split_https_url(value, flag, example):
    """urlsplit of an https URL whose host is a DNS name or an IP, without user info; raises naming `flag`."""
    wanted = f"an https URL, e.g. {example}"
    check_text(value, flag, wanted)
    text = value.strip()
    if len(text) > MAX_URL_CHARS or any(not c.isprintable() or c.isspace() for c in text):
        raise InvalidValue(f"{flag} {shown(value)} is not a URL: give {wanted}.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidValue(f"{flag} {shown(value)} is not a URL: give {wanted}.") from None
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise InvalidValue(
            f"{flag} must be {wanted}: the service is reached over HTTPS only and a token is never sent over "
            "plain HTTP."
        )
    host = parts.hostname.lower()
    dns_name = all(DNS_LABEL_RE.fullmatch(label) for label in host.rstrip(".").split("."))
    if "@" in parts.netloc:  # user info may be a password: never echoed
        raise InvalidValue(f"{flag} must not carry a user name or password: give {wanted}.")
    if not (dns_name or _is_ip_or_localhost(host)) or port == 0:
        raise InvalidValue(f"{flag} {shown(value)} has no valid host name: give {wanted}.")
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")  # "host:" has no port
    return parts._replace(netloc=netloc)


def hsm_url_from_name(name, mhsm_dns_suffix, flag="--hsm-name"):
    check_hsm_name(name, flag)
    if not mhsm_dns_suffix:
        raise InvalidValue(
            f"{flag} cannot be turned into a URL: the current cloud defines no Managed HSM DNS suffix; "
            "pass the HSM URL with --id instead.",
        )
    return f"https://{name.lower()}{mhsm_dns_suffix}"


def parse_resource_id(value, flag):
    """(subscription, resource group, 'namespace/type' lower-cased, name) of an ARM resource ID.

    Exact: /subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}, the fixed segments in any
    case. A resource group named like a type, or a child resource, cannot pass for something else.
    """
    wanted = f"a resource ID {HSM_RESOURCE_ID_FORM}, or the HSM URL, e.g. https://myhsm.managedhsm.azure.net"
    check_text(value, flag, wanted)
    text = value.strip()
    parts = text[1:].rstrip("/").split("/") if text.startswith("/") else []
    shaped = (
        len(parts) == 8
        and [parts[0].lower(), parts[2].lower(), parts[4].lower()] == ["subscriptions", "resourcegroups", "providers"]
        and SUBSCRIPTION_RE.fullmatch(parts[1])
        and RESOURCE_GROUP_RE.fullmatch(parts[3])
        and PROVIDER_RE.fullmatch(parts[5])
        and RESOURCE_TYPE_RE.fullmatch(parts[6])
        and parts[7]
    )
    if not shaped:
        raise InvalidValue(f"{flag} {shown(value)} is not a resource ID of a Managed HSM: give {wanted}.")
    return parts[1], parts[3], f"{parts[5]}/{parts[6]}".lower(), parts[7]


def hsm_url_from_resource_id(value, mhsm_dns_suffix, flag="--id"):
    _, _, kind, name = parse_resource_id(value, flag)
    if kind != MANAGED_HSM_RESOURCE_TYPE:
        raise InvalidValue(
            f"{flag} is the resource ID of a {shown(kind)}, not of a Managed HSM (Microsoft.KeyVault/managedHSMs).",
            "For a key vault use `az keyvault backup`; for an HSM give its resource ID or URL.",
        )
    return hsm_url_from_name(name, mhsm_dns_suffix, flag=f"{flag} (its HSM name)")


def hsm_url_from_url(value, flag="--id"):
    """The HSM URL: scheme and host (and port) are kept, any path is dropped."""
    parts = split_https_url(value, flag, "https://myhsm.managedhsm.azure.net")
    return f"https://{parts.netloc.lower()}"


def hsm_url_from_id(value, mhsm_dns_suffix, flag="--id"):
    """--id takes the HSM URL (scheme and host are kept) or the HSM's ARM resource ID."""
    check_text(value, flag, "the HSM URL, e.g. https://myhsm.managedhsm.azure.net, or its resource ID")
    if value.strip().startswith("/"):
        return hsm_url_from_resource_id(value, mhsm_dns_suffix, flag)
    return hsm_url_from_url(value, flag)


def hsm_name_from_url(url):
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        return host.split(".")[0]


def container_uri_from_names(account, container, storage_endpoint_suffix):
    check_account_name(account)
    check_container_name(container)
    if not storage_endpoint_suffix:
        raise InvalidValue(
            "--storage-account-name cannot be turned into a URL: the current cloud defines no storage suffix; "
            "pass the container URL with --storage-container-uri instead.",
        )
    return f"https://{account}.blob.{storage_endpoint_suffix}/{container}"


def check_container_uri(uri, flag="--storage-container-uri"):
    """An https blob container URL: https://ACCOUNT.blob.SUFFIX/CONTAINER (or path-style on an IP emulator)."""
    example = "e.g. https://myaccount.blob.core.windows.net/backups"
    parts = split_https_url(uri, flag, "https://myaccount.blob.core.windows.net/backups")
    if "sig=" in parts.query.lower():
        raise InvalidValue(
            f"{flag} carries its own SAS query string.",
            "Pass the container URL without '?...' and the token with --sas-token (e.g. --sas-token @token.txt).",
        )
    if parts.query or parts.fragment:
        raise InvalidValue(f"{flag} must not have a query string or fragment, {example}.")
    host = parts.hostname.lower()
    segments = [s for s in parts.path.split("/") if s]
    prefix = []
    if _is_ip_or_localhost(host):  # path-style: /ACCOUNT/CONTAINER (storage emulators, IP endpoints)
        prefix, segments = segments[:1], segments[1:]
        if prefix:
            check_account_name(prefix[0], flag=f"{flag} account")
    elif "blob" not in host.split(".")[1:]:
        raise InvalidValue(f"{flag} must point at a blob endpoint (ACCOUNT.blob.SUFFIX), {example}.")
    if not segments:
        raise InvalidValue(f"{flag} names no container, {example}.")
    container_url = f"https://{parts.netloc.lower()}/" + "/".join(prefix + segments[:1])
    if len(segments) > 1:
        named = CONTAINER_NAME_RE.fullmatch(segments[0])  # only a checked name goes into the suggestion
        raise InvalidValue(
            f"{flag} must name a container, not a folder inside it: the service names the backup folder itself.",
            f"Use {container_url}" if named else f"Use the container's URL, {example}.",
        )
    check_container_name(segments[0], flag=f"{flag} container")
    return container_url


def split_folder_url(url, flag="--folder-url"):
    """https://ACCOUNT.blob.SUFFIX/CONTAINER/FOLDER (what create prints) -> (container URI, folder)."""
    parts = split_https_url(url, flag, "https://myaccount.blob.core.windows.net/backups/mhsm-myhsm-2026112812000000")
    segments = [s for s in parts.path.split("/") if s]
    keep = 2 if _is_ip_or_localhost((parts.hostname or "").lower()) else 1
    if parts.scheme.lower() != "https" or len(segments) < keep + 1:
        raise InvalidValue(
            f"{flag} must be the folderUrl that create printed, "
            "e.g. https://myaccount.blob.core.windows.net/backups/mhsm-myhsm-2026112812000000."
        )
    container = f"{parts.scheme}://{parts.netloc}/" + "/".join(segments[:keep])
    container_uri = check_container_uri(container, flag=flag)
    if "sig=" in parts.query.lower():
        raise InvalidValue(
            f"{flag} carries its own SAS query string: pass the URL without '?...' and the token with --sas-token."
        )
    return container_uri, check_folder_name("/".join(segments[keep:]), flag=flag)


def split_container_uri(container_uri):
    """(account URL, account name, container name) for host-style and path-style (IP) container URLs."""
    parts = urlsplit(container_uri)
    segments = [s for s in parts.path.split("/") if s]
    host = parts.hostname or ""
    if re.fullmatch(r"[\d.]+|localhost|\[.*\]", host):
        return f"{parts.scheme}://{parts.netloc}/{segments[0]}", segments[0], segments[1]
    return f"{parts.scheme}://{parts.netloc}", host.split(".")[0], segments[0]
