"""``VM``: what networking needs of VMs (their VIFs, devices, power state)."""

from __future__ import annotations

from xapictl.client.generated.vm import VMClient
from xapictl.model.enums import VMPowerState
from xapictl.model.refs import VMRef


class VMsClient(VMClient):
    xapi_class = "VM"

    def get_allowed_vif_devices(self, vm: VMRef) -> list[str]:
        """Device numbers still free for a new VIF."""
        return list(self.invoke("get_allowed_VIF_devices", vm))

    def get_power_state(self, ref: VMRef) -> VMPowerState:
        state: VMPowerState = self.invoke("get_power_state", ref)
        return state


__all__ = ["VMsClient"]
