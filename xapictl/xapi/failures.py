"""Every XAPI error code as a typed exception that keeps the code and parameters.

``failure_from(["VLAN_TAG_INVALID", "5000"], method="VLAN.create")`` builds a ``VlanTagInvalid``,
a subclass of ``xapictl.errors.XapiFailure``: ``except VlanTagInvalid`` catches exactly that
code, ``except XapiFailure`` catches every one. Each class below is one row of the table:
the code XAPI sends, the names of the parameters it sends (what REFERENCE §4 observed, which
sometimes differs from what the datamodel declares; ``*name`` is variadic), and a sentence
saying what happened. ``failure.named_params`` pairs the names with the values.

The table covers every code of REFERENCE §4 and every error the datamodel declares; a code it
does not know still becomes a plain ``XapiFailure`` with its code and parameters. To add a
code, add a class: the registry fills itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xapictl.errors import XapiFailure

FAILURES: dict[str, type[XapiFailure]] = {}
"""XAPI error code → the exception class for it."""


class KnownFailure(XapiFailure):
    """Base of the per-code classes: ``code``, parameter names and words are class data."""

    param_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, *, code: str, params: tuple[str, ...] = (), **kwargs: object):
        super().__init_subclass__(**kwargs)
        cls.code = code
        cls.param_names = params
        FAILURES[code] = cls

    def __init__(
        self, code: str = "", params: Sequence[str] = (), *, method: str = "",
        explanation: str = "",
    ) -> None:
        super().__init__(code or type(self).code, params, method=method,
                         explanation=explanation or words(type(self)))

    @property
    def named_params(self) -> dict[str, str | list[str]]:
        """Parameters by name; a variadic last name (``*pifs``) gets the rest as a list."""
        out: dict[str, str | list[str]] = {}
        for i, name in enumerate(self.param_names):
            if name.startswith("*"):
                out[name[1:]] = self.params[i:]
                break
            if i < len(self.params):
                out[name] = self.params[i]
        return out


def words(cls: type[XapiFailure]) -> str:
    """The sentence that says what a code means (the class docstring, on one line)."""
    return " ".join((cls.__doc__ or "").split())


def failure_class(code: str) -> type[XapiFailure]:
    """The class for a code (``XapiFailure`` itself for a code the table does not know)."""
    return FAILURES.get(code, XapiFailure)


def failure_from(description: Sequence[object], *, method: str = "") -> XapiFailure:
    """Build the typed exception from ``ErrorDescription`` / JSON-RPC ``[code, params…]``."""
    if not description:
        return XapiFailure("INTERNAL_ERROR", ["empty error description"], method=method)
    code, params = str(description[0]), [str(p) for p in description[1:]]
    cls = FAILURES.get(code)
    if cls is None:
        return XapiFailure(code, params, method=method)
    return cls(code, params, method=method)


# --- the table (sorted by code) ------------------------------------------------------------


class AddressViolatesLockingConstraint(
    KnownFailure, code="ADDRESS_VIOLATES_LOCKING_CONSTRAINT", params=("address",)
):
    """The IP address is not allowed by the VIF's locking mode and allowed-address lists."""


class BootloaderFailed(KnownFailure, code="BOOTLOADER_FAILED", params=()):
    """The bootloader returned an error."""


class BridgeNameExists(KnownFailure, code="BRIDGE_NAME_EXISTS", params=("bridge",)):
    """Another network already uses this bridge name."""


class BridgeNotAvailable(KnownFailure, code="BRIDGE_NOT_AVAILABLE", params=("bridge",)):
    """The bridge of this unmanaged network does not exist on the host."""


class CannotAddTunnelToBondSlave(
    KnownFailure, code="CANNOT_ADD_TUNNEL_TO_BOND_SLAVE", params=("pif",)
):
    """A tunnel cannot be put on a PIF that is a member of a bond."""


class CannotAddTunnelToSriovLogical(
    KnownFailure, code="CANNOT_ADD_TUNNEL_TO_SRIOV_LOGICAL", params=("pif",)
):
    """A tunnel cannot be put on an SR-IOV logical PIF."""


class CannotAddTunnelToVlanOnSriovLogical(
    KnownFailure, code="CANNOT_ADD_TUNNEL_TO_VLAN_ON_SRIOV_LOGICAL", params=("pif",)
):
    """A tunnel cannot be put on a VLAN on top of an SR-IOV logical PIF."""


class CannotAddVlanToBondSlave(KnownFailure, code="CANNOT_ADD_VLAN_TO_BOND_SLAVE", params=("pif",)):
    """A VLAN cannot be put on a PIF that is a member of a bond; use the bond's PIF."""


class CannotChangePifProperties(KnownFailure, code="CANNOT_CHANGE_PIF_PROPERTIES", params=("pif",)):
    """The properties of this PIF cannot be changed (only bond masters and physical PIFs
    have them)."""


class CannotContactHost(KnownFailure, code="CANNOT_CONTACT_HOST", params=("host_ref",)):
    """The master could not reach the host that must run this operation."""


class CannotDestroySystemNetwork(
    KnownFailure, code="CANNOT_DESTROY_SYSTEM_NETWORK", params=("network",)
):
    """This network belongs to the host (internal management network) and cannot be
    destroyed."""


class CannotForgetSriovLogical(KnownFailure, code="CANNOT_FORGET_SRIOV_LOGICAL", params=("pif",)):
    """An SR-IOV logical PIF cannot be forgotten; destroy the network_sriov instead."""


class CannotPlugBondSlave(KnownFailure, code="CANNOT_PLUG_BOND_SLAVE", params=("pif",)):
    """This PIF is a bond member and cannot be plugged."""


class ClusteringDisabled(KnownFailure, code="CLUSTERING_DISABLED", params=()):
    """An operation was attempted while clustering was disabled on the cluster_host."""


class ClusteringEnabled(KnownFailure, code="CLUSTERING_ENABLED", params=("cluster_host",)):
    """An operation was attempted while clustering was enabled on the cluster_host."""


class ClusterDoesNotHaveOneNode(KnownFailure, code="CLUSTER_DOES_NOT_HAVE_ONE_NODE", params=()):
    """An operation failed as it expected the cluster to have only one node but found
    multiple cluster_hosts."""


class ClusterForceDestroyFailed(KnownFailure, code="CLUSTER_FORCE_DESTROY_FAILED", params=()):
    """Force destroy failed on a Cluster_host while force destroying the cluster."""


class ClusterHostIsLast(KnownFailure, code="CLUSTER_HOST_IS_LAST", params=()):
    """The last cluster host cannot be destroyed. Destroy the cluster instead."""


class ClusterStackInUse(KnownFailure, code="CLUSTER_STACK_IN_USE", params=()):
    """The cluster stack is still in use by at least one plugged PBD."""


class CouldNotFindNetworkInterfaceWithSpecifiedDeviceNameAndMacAddress(
    KnownFailure,
    code="COULD_NOT_FIND_NETWORK_INTERFACE_WITH_SPECIFIED_DEVICE_NAME_AND_MAC_ADDRESS",
    params=("device", "mac"),
):
    """The host has no network interface with this device name and MAC address."""


class DeviceAlreadyAttached(KnownFailure, code="DEVICE_ALREADY_ATTACHED", params=("vif",)):
    """The device is already attached (plugged)."""


class DeviceAlreadyDetached(KnownFailure, code="DEVICE_ALREADY_DETACHED", params=("vif",)):
    """The device is already detached (unplugged)."""


class DeviceAlreadyExists(KnownFailure, code="DEVICE_ALREADY_EXISTS", params=("device",)):
    """The VM already has a VIF with this device number."""


class DeviceDetachRejected(KnownFailure, code="DEVICE_DETACH_REJECTED", params=()):
    """The VM rejected the attempt to detach the device."""


class DuplicatePifDeviceName(KnownFailure, code="DUPLICATE_PIF_DEVICE_NAME", params=("device",)):
    """The host already has a PIF with this device name."""


class EventsLost(KnownFailure, code="EVENTS_LOST", params=()):
    """Some events have been lost from the queue and cannot be retrieved."""


class EventFromTokenParseFailure(
    KnownFailure, code="EVENT_FROM_TOKEN_PARSE_FAILURE", params=("token",)
):
    """The event.from token could not be parsed. Valid values include: '', and a value
    returned from a previous event.from call."""


class EventSubscriptionParseFailure(
    KnownFailure, code="EVENT_SUBSCRIPTION_PARSE_FAILURE", params=("subscription",)
):
    """The server failed to parse your event subscription. Valid values include: *, class-
    name, class-name/object-reference."""


class Fault(KnownFailure, code="Fault", params=("message",)):
    """The message has no asynchronous form (Async.* is only for messages that can run as
    tasks)."""


class HandleInvalid(KnownFailure, code="HANDLE_INVALID", params=("class", "ref")):
    """The reference does not name an existing object of that class (deleted, never existed,
    or NULL)."""


class HaCannotChangeBondStatusOfMgmtIface(
    KnownFailure, code="HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE", params=()
):
    """With HA enabled, the bond status of the management interface cannot change."""


class HaConstraintViolationNetworkNotShared(
    KnownFailure, code="HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED", params=("network",)
):
    """With HA enabled, the VM may only use networks that every host can reach."""


class HaIsEnabled(KnownFailure, code="HA_IS_ENABLED", params=()):
    """The operation could not be performed because HA is enabled on the Pool."""


class HaOperationWouldBreakFailoverPlan(
    KnownFailure, code="HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN", params=()
):
    """This operation cannot be performed because it would invalidate VM failover planning
    such that the system would be unable to guarantee to restart protected VMs after a Host
    failure."""


class HostCannotAttachNetwork(
    KnownFailure, code="HOST_CANNOT_ATTACH_NETWORK", params=("host", "network")
):
    """Server cannot attach network (in the case of NIC bonding, this may be because
    attaching the network on this server would require other networks - that are currently
    active - to be taken down)."""


class HostDisabled(KnownFailure, code="HOST_DISABLED", params=()):
    """The specified server is disabled."""


class HostIsSlave(KnownFailure, code="HOST_IS_SLAVE", params=("master_ip_address",)):
    """You cannot make regular API calls directly on a supporter. Please pass API calls via
    the coordinator host."""


class HostNameInvalid(KnownFailure, code="HOST_NAME_INVALID", params=()):
    """The server name is invalid."""


class HostNotEnoughFreeMemory(KnownFailure, code="HOST_NOT_ENOUGH_FREE_MEMORY", params=()):
    """Not enough server memory is available to perform this operation."""


class HostNotEnoughPcpus(KnownFailure, code="HOST_NOT_ENOUGH_PCPUS", params=()):
    """The host does not have enough pCPUs to run the VM. It needs at least as many as the
    VM has vCPUs."""


class HostNotLive(KnownFailure, code="HOST_NOT_LIVE", params=()):
    """This operation cannot be completed as the server is not live."""


class HostOffline(KnownFailure, code="HOST_OFFLINE", params=("host_ref",)):
    """The host that must run this operation is not live."""


class IncompatiblePifProperties(KnownFailure, code="INCOMPATIBLE_PIF_PROPERTIES", params=()):
    """The PIFs to bond have different properties (for example GRO) and cannot be bonded."""


class InterfaceHasNoIp(KnownFailure, code="INTERFACE_HAS_NO_IP", params=("pif",)):
    """The interface has no IP address, which this operation needs."""


class InternalError(KnownFailure, code="INTERNAL_ERROR", params=("message",)):
    """The server failed to handle your request, due to an internal error. The given message
    may give details useful for debugging the problem."""


class InvalidCidrAddressSpecified(
    KnownFailure, code="INVALID_CIDR_ADDRESS_SPECIFIED", params=("parameter_name",)
):
    """A parameter is not a valid address in CIDR form (address/prefix)."""


class InvalidClusterStack(KnownFailure, code="INVALID_CLUSTER_STACK", params=()):
    """The cluster stack provided is not supported."""


class InvalidDevice(KnownFailure, code="INVALID_DEVICE", params=("device",)):
    """The VIF device name is not a valid device number."""


class InvalidIpAddressSpecified(
    KnownFailure, code="INVALID_IP_ADDRESS_SPECIFIED", params=("parameter_name",)
):
    """A parameter is not a valid IP address."""


class InvalidValue(KnownFailure, code="INVALID_VALUE", params=("field", "value")):
    """The value given is invalid."""


class IsTunnelAccessPif(KnownFailure, code="IS_TUNNEL_ACCESS_PIF", params=("pif",)):
    """Cannot create a VLAN or tunnel on top of a tunnel access PIF - use the underlying
    transport PIF instead."""


class JoiningHostCannotContainSharedSrs(
    KnownFailure, code="JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS", params=()
):
    """The server joining the pool cannot contain any shared storage."""


class LicenceRestriction(KnownFailure, code="LICENCE_RESTRICTION", params=("feature",)):
    """This operation is not allowed because your license lacks a needed feature. Please
    contact your support representative."""


class LicenseProcessingError(KnownFailure, code="LICENSE_PROCESSING_ERROR", params=()):
    """There was an error processing your license. Please contact your support
    representative."""


class MacInvalid(KnownFailure, code="MAC_INVALID", params=("mac",)):
    """The MAC address is not valid."""


class MapDuplicateKey(
    KnownFailure, code="MAP_DUPLICATE_KEY", params=("class", "db_field", "object_ref", "key")
):
    """The map field already has this key; remove it first or use the set_ call."""


class MemoryConstraintViolation(KnownFailure, code="MEMORY_CONSTRAINT_VIOLATION", params=()):
    """The dynamic memory range does not satisfy the following constraint."""


class MessageMethodUnknown(KnownFailure, code="MESSAGE_METHOD_UNKNOWN", params=("method",)):
    """The host does not know this method (wrong name, read-only field, or an older
    release)."""


class MessageParameterCountMismatch(
    KnownFailure, code="MESSAGE_PARAMETER_COUNT_MISMATCH", params=("method", "expected", "received")
):
    """The method was called with the wrong number of parameters."""


class MessageRemoved(KnownFailure, code="MESSAGE_REMOVED", params=()):
    """This message was removed from the API."""


class NetworkAlreadyConnected(
    KnownFailure, code="NETWORK_ALREADY_CONNECTED", params=("host", "existing_pif")
):
    """The host already has a PIF on this network."""


class NetworkContainsPif(KnownFailure, code="NETWORK_CONTAINS_PIF", params=("*pifs",)):
    """The network still has PIFs; destroy or forget them first."""


class NetworkContainsVif(KnownFailure, code="NETWORK_CONTAINS_VIF", params=("*vifs",)):
    """The network still has attached VIFs; unplug or move them first."""


class NetworkHasIncompatibleSriovPifs(
    KnownFailure, code="NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS", params=("pif", "network")
):
    """The network has SR-IOV PIFs that are incompatible with this PIF."""


class NetworkHasIncompatibleVlanOnSriovPifs(
    KnownFailure, code="NETWORK_HAS_INCOMPATIBLE_VLAN_ON_SRIOV_PIFS", params=("pif", "network")
):
    """The network has VLAN-on-SR-IOV PIFs that are incompatible with this PIF."""


class NetworkIncompatiblePurposes(
    KnownFailure,
    code="NETWORK_INCOMPATIBLE_PURPOSES",
    params=("new_purpose", "conflicting_purpose"),
):
    """You tried to add a purpose to a network but the new purpose is not compatible with an
    existing purpose of the network or other networks."""


class NetworkIncompatibleWithBond(
    KnownFailure, code="NETWORK_INCOMPATIBLE_WITH_BOND", params=("network",)
):
    """The network cannot carry a bond (its purpose or existing PIFs forbid it)."""


class NetworkIncompatibleWithSriov(
    KnownFailure, code="NETWORK_INCOMPATIBLE_WITH_SRIOV", params=("network",)
):
    """The network cannot carry SR-IOV."""


class NetworkIncompatibleWithTrunks(
    KnownFailure, code="NETWORK_INCOMPATIBLE_WITH_TRUNKS", params=("network",)
):
    """The network cannot carry VIF trunks."""


class NetworkIncompatibleWithTunnel(
    KnownFailure, code="NETWORK_INCOMPATIBLE_WITH_TUNNEL", params=("network",)
):
    """The network cannot carry a tunnel."""


class NetworkIncompatibleWithVlanOnBridge(
    KnownFailure, code="NETWORK_INCOMPATIBLE_WITH_VLAN_ON_BRIDGE", params=("network",)
):
    """The network cannot carry a VLAN on a bridge PIF."""


class NetworkIncompatibleWithVlanOnSriov(
    KnownFailure, code="NETWORK_INCOMPATIBLE_WITH_VLAN_ON_SRIOV", params=("network",)
):
    """The network cannot carry a VLAN on an SR-IOV PIF."""


class NetworkSriovInsufficientCapacity(
    KnownFailure, code="NETWORK_SRIOV_INSUFFICIENT_CAPACITY", params=()
):
    """There is insufficient capacity for VF reservation."""


class NetworkUnmanaged(KnownFailure, code="NETWORK_UNMANAGED", params=("network",)):
    """The network is not managed by xapi, so xapi will not build VLANs, bonds or tunnels on
    it."""


class XapiNotImplemented(KnownFailure, code="NOT_IMPLEMENTED", params=("function",)):
    """The host does not implement this function."""


class NotInEmergencyMode(KnownFailure, code="NOT_IN_EMERGENCY_MODE", params=()):
    """This call is only allowed while the host is in emergency mode."""


class NotSupportedDuringUpgrade(KnownFailure, code="NOT_SUPPORTED_DURING_UPGRADE", params=()):
    """This operation is not supported during an upgrade."""


class NoClusterHostsReachable(KnownFailure, code="NO_CLUSTER_HOSTS_REACHABLE", params=()):
    """No other cluster host was reachable when joining."""


class NoHostsAvailable(KnownFailure, code="NO_HOSTS_AVAILABLE", params=()):
    """There were no servers available to complete the specified operation."""


class OpenvswitchNotActive(KnownFailure, code="OPENVSWITCH_NOT_ACTIVE", params=()):
    """This operation needs the OpenVSwitch networking backend to be enabled on all hosts in
    the pool."""


class OperationNotAllowed(KnownFailure, code="OPERATION_NOT_ALLOWED", params=("reason_text",)):
    """You attempted an operation that was not allowed."""


class OperationPartiallyFailed(KnownFailure, code="OPERATION_PARTIALLY_FAILED", params=()):
    """Some VMs belonging to the appliance threw an exception while carrying out the
    specified operation."""


class OtherOperationInProgress(
    KnownFailure, code="OTHER_OPERATION_IN_PROGRESS", params=("class", "ref", "ops", "op_refs")
):
    """Another operation involving the object is currently in progress."""


class PifAllowsUnplug(KnownFailure, code="PIF_ALLOWS_UNPLUG", params=()):
    """The operation you requested cannot be performed because the specified PIF allows
    unplug."""


class PifAlreadyBonded(KnownFailure, code="PIF_ALREADY_BONDED", params=("pif",)):
    """The PIF is already a member of a bond."""


class PifBondMoreThanOneIp(KnownFailure, code="PIF_BOND_MORE_THAN_ONE_IP", params=()):
    """Only one PIF of a bond may have an IP configuration."""


class PifBondNeedsMoreMembers(KnownFailure, code="PIF_BOND_NEEDS_MORE_MEMBERS", params=()):
    """A bond needs at least one member PIF."""


class PifCannotBondCrossHost(KnownFailure, code="PIF_CANNOT_BOND_CROSS_HOST", params=()):
    """All members of a bond must be on the same host."""


class PifDoesNotAllowUnplug(KnownFailure, code="PIF_DOES_NOT_ALLOW_UNPLUG", params=("pif",)):
    """The operation you requested cannot be performed because the specified PIF does not
    allow unplug."""


class PifHasFcoeSrInUse(KnownFailure, code="PIF_HAS_FCOE_SR_IN_USE", params=("pif", "sr")):
    """The operation you requested cannot be performed because the specified PIF has FCoE SR
    in use."""


class PifHasNoNetworkConfiguration(
    KnownFailure, code="PIF_HAS_NO_NETWORK_CONFIGURATION", params=("pif",)
):
    """PIF has no IP configuration (mode currently set to 'none')."""


class PifHasNoV6NetworkConfiguration(
    KnownFailure, code="PIF_HAS_NO_V6_NETWORK_CONFIGURATION", params=()
):
    """PIF has no IPv6 configuration (mode currently set to 'none')."""


class PifIncompatiblePrimaryAddressType(
    KnownFailure, code="PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE", params=("pif",)
):
    """The primary address types are not compatible."""


class PifIsManagementInterface(KnownFailure, code="PIF_IS_MANAGEMENT_INTERFACE", params=("pif",)):
    """The PIF is the host's management interface, which this operation would cut off."""


class PifIsNotPhysical(KnownFailure, code="PIF_IS_NOT_PHYSICAL", params=("pif",)):
    """The PIF is not a physical interface."""


class PifIsPhysical(KnownFailure, code="PIF_IS_PHYSICAL", params=()):
    """You tried to destroy a PIF, but it represents an aspect of the physical host
    configuration, and so cannot be destroyed. The parameter echoes the PIF handle you gave."""


class PifIsSriovLogical(KnownFailure, code="PIF_IS_SRIOV_LOGICAL", params=("pif",)):
    """The PIF is an SR-IOV logical PIF."""


class PifIsVlan(KnownFailure, code="PIF_IS_VLAN", params=("pif",)):
    """The PIF is already a VLAN; VLANs cannot be stacked on VLANs."""


class PifNotAttachedToHost(KnownFailure, code="PIF_NOT_ATTACHED_TO_HOST", params=()):
    """Cluster_host creation failed as the PIF provided is not attached to the host."""


class PifNotPresent(KnownFailure, code="PIF_NOT_PRESENT", params=("host", "network")):
    """This host has no PIF on the given network."""


class PifSriovStillExists(KnownFailure, code="PIF_SRIOV_STILL_EXISTS", params=("pif",)):
    """The PIF still has SR-IOV configured; remove it first."""


class PifTunnelStillExists(KnownFailure, code="PIF_TUNNEL_STILL_EXISTS", params=("pif",)):
    """Operation cannot proceed while a tunnel exists on this interface."""


class PifUnmanaged(KnownFailure, code="PIF_UNMANAGED", params=("pif",)):
    """The PIF is not managed by xapi."""


class PifVlanExists(KnownFailure, code="PIF_VLAN_EXISTS", params=("device",)):
    """A VLAN with this tag already exists on this PIF (or a bond member carries a VLAN)."""


class PifVlanStillExists(KnownFailure, code="PIF_VLAN_STILL_EXISTS", params=("pif",)):
    """The PIF still has VLANs on it; destroy them first."""


class PvsProxyPresentOnHigherVifDevice(
    KnownFailure, code="PVS_PROXY_PRESENT_ON_HIGHER_VIF_DEVICE", params=("device",)
):
    """A PVS proxy is attached to a VIF with a higher device number."""


class PvsSiteContainsRunningProxies(
    KnownFailure, code="PVS_SITE_CONTAINS_RUNNING_PROXIES", params=()
):
    """The PVS site contains running proxies."""


class PvsSiteContainsServers(KnownFailure, code="PVS_SITE_CONTAINS_SERVERS", params=()):
    """The PVS site contains servers and cannot be forgotten."""


class RbacPermissionDenied(
    KnownFailure, code="RBAC_PERMISSION_DENIED", params=("permission", "message")
):
    """The session's role does not allow this call; the message lists the roles that do."""


class RedoLogIsEnabled(KnownFailure, code="REDO_LOG_IS_ENABLED", params=()):
    """The operation is not allowed while the redo log is enabled."""


class RequiredPifIsUnplugged(KnownFailure, code="REQUIRED_PIF_IS_UNPLUGGED", params=("pif",)):
    """The operation you requested cannot be performed because the specified PIF is
    currently unplugged."""


class SessionAuthenticationFailed(
    KnownFailure, code="SESSION_AUTHENTICATION_FAILED", params=("uname", "message")
):
    """The credentials given by the user are incorrect, so access has been denied, and you
    have not been issued a session handle."""


class SessionAuthorizationFailed(
    KnownFailure, code="SESSION_AUTHORIZATION_FAILED", params=("username", "msg")
):
    """The user is authenticated but has no role in the pool."""


class SessionInvalid(KnownFailure, code="SESSION_INVALID", params=("session_ref_as_given",)):
    """The session reference is unknown, expired or logged out."""


class SessionNotRegistered(KnownFailure, code="SESSION_NOT_REGISTERED", params=("message",)):
    """This session is not registered to receive events. You must call event.register before
    event.next. The session handle you are using is echoed."""


class SlaveRequiresManagementInterface(
    KnownFailure, code="SLAVE_REQUIRES_MANAGEMENT_INTERFACE", params=()
):
    """A pool member must keep a management interface."""


class SrFull(KnownFailure, code="SR_FULL", params=()):
    """The SR is full. Requested new size exceeds the maximum size."""


class SrHasNoPbds(KnownFailure, code="SR_HAS_NO_PBDS", params=()):
    """The SR has no attached PBDs."""


class SrHasPbd(KnownFailure, code="SR_HAS_PBD", params=()):
    """The SR is still connected to a host via a PBD. It cannot be destroyed or forgotten."""


class SrNotAttached(KnownFailure, code="SR_NOT_ATTACHED", params=()):
    """The SR is not attached."""


class SrOperationNotSupported(KnownFailure, code="SR_OPERATION_NOT_SUPPORTED", params=()):
    """The SR backend does not support the operation (check the SR's allowed operations)."""


class SrUnknownDriver(KnownFailure, code="SR_UNKNOWN_DRIVER", params=()):
    """The SR could not be connected because the driver was not recognised."""


class TaskCancelled(KnownFailure, code="TASK_CANCELLED", params=("task",)):
    """The task was cancelled."""


class TransportPifNotConfigured(
    KnownFailure, code="TRANSPORT_PIF_NOT_CONFIGURED", params=("transport_pif",)
):
    """The tunnel transport PIF has no IP configuration set."""


class UnimplementedInSmBackend(KnownFailure, code="UNIMPLEMENTED_IN_SM_BACKEND", params=()):
    """You have attempted a function which is not implemented."""


class UnknownBootloader(KnownFailure, code="UNKNOWN_BOOTLOADER", params=()):
    """The requested bootloader is unknown."""


class UuidInvalid(KnownFailure, code="UUID_INVALID", params=("class", "uuid")):
    """No object of that class has this UUID."""


class ValueNotSupported(KnownFailure, code="VALUE_NOT_SUPPORTED", params=()):
    """You attempted to set a value that is not supported by this implementation. The fully-
    qualified field name and the value that you tried to set are returned. Also returned is
    a developer-only diagnostic reason."""


class VbdIsEmpty(KnownFailure, code="VBD_IS_EMPTY", params=()):
    """Operation could not be performed because the drive is empty."""


class VbdNotEmpty(KnownFailure, code="VBD_NOT_EMPTY", params=()):
    """Operation could not be performed because the drive is not empty."""


class VbdNotRemovableMedia(KnownFailure, code="VBD_NOT_REMOVABLE_MEDIA", params=()):
    """Media could not be ejected because it is not removable."""


class VdiIncompatibleType(KnownFailure, code="VDI_INCOMPATIBLE_TYPE", params=()):
    """This operation cannot be performed because the specified VDI is of an incompatible
    type (eg: an HA statefile cannot be attached to a guest)."""


class VdiInUse(KnownFailure, code="VDI_IN_USE", params=()):
    """This operation cannot be performed because this VDI is in use by some other
    operation."""


class VdiIsAPhysicalDevice(KnownFailure, code="VDI_IS_A_PHYSICAL_DEVICE", params=()):
    """The operation cannot be performed on physical device."""


class VdiMissing(KnownFailure, code="VDI_MISSING", params=()):
    """This operation cannot be performed because the specified VDI could not be found on
    the storage substrate."""


class VdiNotSparse(KnownFailure, code="VDI_NOT_SPARSE", params=()):
    """The VDI is not stored using a sparse format. It is not possible to query and
    manipulate only the changed blocks (or 'block differences' or 'disk deltas') between two
    VDIs. Please select a VDI which uses a sparse-aware technology such as VHD."""


class VdiNoCbtMetadata(KnownFailure, code="VDI_NO_CBT_METADATA", params=()):
    """The requested operation is not allowed because the specified VDI does not have
    changed block tracking metadata."""


class VdiOnBootModeIncompatibleWithOperation(
    KnownFailure, code="VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION", params=()
):
    """This operation is not permitted on VDIs in the 'on-boot=reset' mode, or on VMs having
    such VDIs."""


class VdiReadonly(KnownFailure, code="VDI_READONLY", params=()):
    """The operation required write access but this VDI is read-only."""


class VdiTooSmall(KnownFailure, code="VDI_TOO_SMALL", params=()):
    """The VDI is too small. Please resize it to at least the minimum size."""


class VifInUse(KnownFailure, code="VIF_IN_USE", params=("network", "vif")):
    """Network has active VIFs."""


class VlanInUse(KnownFailure, code="VLAN_IN_USE", params=("device", "tag")):
    """The host's kernel already has a VLAN with this device and tag."""


class VlanTagInvalid(KnownFailure, code="VLAN_TAG_INVALID", params=("tag",)):
    """The VLAN tag you gave was invalid -- it must be between 0 and 4094. The parameter
    echoes the VLAN tag you gave."""


class VmBadPowerState(KnownFailure, code="VM_BAD_POWER_STATE", params=("vm", "expected", "actual")):
    """You attempted an operation on a VM that was not in an appropriate power state at the
    time; for example, you attempted to start a VM that was already running. The parameters
    returned are the VM's handle, and the expected and actual VM state at the time of the
    call."""


class VmBiosStringsAlreadySet(KnownFailure, code="VM_BIOS_STRINGS_ALREADY_SET", params=()):
    """The BIOS strings for this VM have already been set and cannot be changed."""


class VmCheckpointResumeFailed(KnownFailure, code="VM_CHECKPOINT_RESUME_FAILED", params=()):
    """An error occured while restoring the memory image of the specified virtual machine."""


class VmCheckpointSuspendFailed(KnownFailure, code="VM_CHECKPOINT_SUSPEND_FAILED", params=()):
    """An error occured while saving the memory image of the specified virtual machine."""


class VmHostIncompatibleVersion(KnownFailure, code="VM_HOST_INCOMPATIBLE_VERSION", params=()):
    """This VM operation cannot be performed on an older-versioned host during an upgrade."""


class VmHostIncompatibleVirtualHardwarePlatformVersion(
    KnownFailure, code="VM_HOST_INCOMPATIBLE_VIRTUAL_HARDWARE_PLATFORM_VERSION", params=()
):
    """You attempted to run a VM on a host that cannot provide the VM's required Virtual
    Hardware Platform version."""


class VmHvmRequired(KnownFailure, code="VM_HVM_REQUIRED", params=()):
    """HVM is required for this operation."""


class VmIncompatibleWithThisHost(KnownFailure, code="VM_INCOMPATIBLE_WITH_THIS_HOST", params=()):
    """The VM is incompatible with the CPU features of this host."""


class VmIsPartOfAnAppliance(KnownFailure, code="VM_IS_PART_OF_AN_APPLIANCE", params=()):
    """This operation is not allowed as the VM is part of an appliance."""


class VmIsTemplate(KnownFailure, code="VM_IS_TEMPLATE", params=()):
    """The operation attempted is not valid for a template VM."""


class VmLacksFeature(KnownFailure, code="VM_LACKS_FEATURE", params=("vm",)):
    """The VM's guest agent lacks the feature this call needs."""


class VmMissingPvDrivers(KnownFailure, code="VM_MISSING_PV_DRIVERS", params=("vm",)):
    """The VM has no PV drivers, so devices cannot be hot-plugged."""


class VmRequiresGpu(KnownFailure, code="VM_REQUIRES_GPU", params=()):
    """You attempted to run a VM on a host which doesn't have a pGPU available in the GPU
    group needed by the VM. The VM has a vGPU attached to this GPU group."""


class VmRequiresIommu(KnownFailure, code="VM_REQUIRES_IOMMU", params=()):
    """You attempted to run a VM on a host which doesn't have I/O virtualization
    (IOMMU/VT-d) enabled, which is needed by the VM."""


class VmRequiresNetwork(KnownFailure, code="VM_REQUIRES_NETWORK", params=("vm", "network")):
    """You attempted to run a VM on a host which doesn't have a PIF on a Network needed by
    the VM. The VM has at least one VIF attached to the Network."""


class VmRequiresSr(KnownFailure, code="VM_REQUIRES_SR", params=()):
    """You attempted to run a VM on a host which doesn't have access to an SR needed by the
    VM. The VM has at least one VBD attached to a VDI in the SR."""


class VmRequiresVgpu(KnownFailure, code="VM_REQUIRES_VGPU", params=()):
    """You attempted to run a VM on a host on which the vGPU required by the VM cannot be
    allocated on any pGPUs in the GPU_group needed by the VM."""


class VmRevertFailed(KnownFailure, code="VM_REVERT_FAILED", params=()):
    """An error occured while reverting the specified virtual machine to the specified
    snapshot."""


class VmSnapshotWithQuiesceFailed(KnownFailure, code="VM_SNAPSHOT_WITH_QUIESCE_FAILED", params=()):
    """The quiesced-snapshot operation failed for an unexpected reason."""


class VmSnapshotWithQuiesceNotSupported(
    KnownFailure, code="VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED", params=()
):
    """The VSS plug-in is not installed on this virtual machine."""


class VmSnapshotWithQuiescePluginDeosNotRespond(
    KnownFailure, code="VM_SNAPSHOT_WITH_QUIESCE_PLUGIN_DEOS_NOT_RESPOND", params=()
):
    """The VSS plug-in cannot be contacted."""


class VmSnapshotWithQuiesceTimeout(
    KnownFailure, code="VM_SNAPSHOT_WITH_QUIESCE_TIMEOUT", params=()
):
    """The VSS plug-in has timed out."""


__all__ = [
    "FAILURES", "KnownFailure", "failure_class", "failure_from", "words",
    *sorted(cls.__name__ for cls in FAILURES.values()),
]
