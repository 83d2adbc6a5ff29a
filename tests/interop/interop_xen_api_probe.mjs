// Drives Xen Orchestra's xen-api client against a simulator; prints one JSON line of findings.
// usage: node interop_xen_api_probe.mjs URL TRANSPORT(json-rpc|xml-rpc) MODE(plain|events)
import { createClient } from 'xen-api'

const [url, transport, mode] = process.argv.slice(2)
// 'events': watch a few classes; 'all-events': xen-api's default, every class in listMethods
const events = mode === 'events' || mode === 'all-events'
const out = {}
const xapi = createClient({
  url,
  auth: { user: 'root', password: 'xapictl' },
  allowUnauthorized: true,
  transport,
  watchEvents: mode === 'all-events' ? true : events ? ['pool', 'network', 'task'] : false,
})
const deadline = setTimeout(() => { console.log(JSON.stringify({ ...out, timeout: true })); process.exit(3) }, 45000)
try {
  await xapi.connect()
  out.hostname = xapi._url.hostname
  out.pool = xapi.pool.$ref
  const nets = await xapi.call('network.get_all_records')
  out.networks = Object.values(nets).map(n => n.name_label).sort()
  out.mtu = Object.values(nets)[0].MTU
  try {
    await xapi.call('network.get_record', 'OpaqueRef:nope')
  } catch (e) {
    out.error = [e.code, ...e.params]
  }
  if (events) {
    await xapi.objectsFetched
    const ref = await xapi.call('network.create', { name_label: 'from-node', other_config: {} })
    const seen = await xapi.barrier(ref)  // one event.from round that includes our change
    out.eventSeen = seen.name_label
    const asyncRef = await xapi.callAsync('network.create', { name_label: 'async-node', other_config: {} })
    out.asyncResult = asyncRef
    out.asyncName = (await xapi.call('network.get_record', asyncRef)).name_label
    out.cachedTypes = [...new Set(Object.values(xapi.objects.all).map(o => o.$type))].sort()
  }
} catch (e) {
  out.fatal = String(e && e.stack || e)
}
clearTimeout(deadline)
await xapi.disconnect()
console.log(JSON.stringify(out))
setTimeout(() => process.exit(0), 200)
