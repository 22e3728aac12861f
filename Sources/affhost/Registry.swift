import AffiliateCore
import ProviderFirstPromoter
import ProviderVantio

/// The dialects compiled into this binary. Adding a dialect is one module and one line here.
let affhostProviders = ProviderRegistry([
    FirstPromoterProvider(),
    VantioProvider(),
])
