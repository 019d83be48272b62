// Installs WeChat as the platform before any page runs. A property company's build may set
// its API host and company code here (or in config.ts).
import { configure } from './config'
import { setPlatform, wxPlatform } from './lib/platform'

setPlatform(wxPlatform(wx))
configure({})

App({})
