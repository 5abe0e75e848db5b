"""Domains of the tool world, part two (format: see domains_a.py)."""

DOMAINS_B: dict[str, tuple[str, list[str]]] = {
    "translation": ("translation", [
        "translate|translate|text|text,language|translation:string|how to say \"{text}\" "
        "in {language};\"{text}\" rendered into {language};what a {language} speaker would "
        "say for \"{text}\"",
        "detect_language|detect|language|text|language:string,confidence:number|what "
        "tongue \"{text}\" is written in;which language \"{text}\" is;"
        "where the phrase \"{text}\" comes from linguistically",
        "pronounce|get|pronunciation|word,language?|ipa:string,audio_url:string|how "
        "{word} sounds out loud[ in {language}];the right way to say {word}"
        "[ with a {language} accent];how natives voice {word}[ in {language}]",
    ]),
    "currency": ("currency", [
        "convert|convert|currency amount|amount,currency,target_currency|result:number,"
        "rate:number|what {amount} {currency} is in {target_currency};how much "
        "{target_currency} I get for {amount} {currency};{amount} {currency} expressed "
        "as {target_currency}",
        "rate_history|get|exchange rate history|currency,target_currency,date|rates:array|"
        "how {currency} moved against {target_currency} since {date};the trend of "
        "{currency} to {target_currency} from {date};whether {currency} got stronger "
        "than {target_currency} since {date}",
        "atm_fees|find|ATM fee information|city,currency?|atms:array|where to withdraw "
        "cash cheaply in {city}[ in {currency}];a cash machine in {city} that won't rip "
        "me off[ for {currency}];how to get banknotes in {city} without big charges"
        "[ in {currency}]",
    ]),
    "crypto": ("cryptocurrency", [
        "coin_price|get|coin price|coin,currency?|price:number|what one {coin} costs"
        "[ in {currency}];how much {coin} is worth today[ in {currency}];"
        "the going value of {coin}[ in {currency}]",
        "wallet|get|wallet balance|coin|balance:number|how much {coin} I hold;"
        "what's left of my {coin} stash;the size of my {coin} position",
        "buy_coin|buy|crypto order|coin,amount|order_id:string|to pick up {amount} "
        "worth of {coin};to invest {amount} in {coin};that {amount} goes into {coin}",
    ]),
    "smart_home": ("smart home", [
        "device_control|control|device power|device|state:string|to switch off the "
        "{device};that the {device} turns on;to toggle the {device}",
        "thermostat|set|thermostat temperature|temperature,device?|target:number|the "
        "house at {temperature} degrees[ via the {device}];to make it {temperature} "
        "degrees inside[ using the {device}];that the rooms warm to {temperature}"
        "[ with the {device}]",
        "device_status|get|device status|device|online:boolean,battery:number|whether "
        "the {device} is working;if the {device} is still connected;"
        "how much charge the {device} has",
        "routine|create|automation routine|device,time|routine_id:string|that the "
        "{device} kicks in every day at {time};the {device} on a timer for {time};"
        "to have the {device} handle itself at {time}",
    ]),
    "vehicles": ("vehicle", [
        "car_value|estimate|car value|vehicle|value:number|what my {vehicle} would sell "
        "for;the resale price of a {vehicle};how much a dealer would pay for my {vehicle}",
        "recalls|check|vehicle recalls|vehicle|recalls:array|whether the {vehicle} has "
        "any safety problems;if {vehicle} owners were asked to bring it in;"
        "whether my {vehicle} has a known defect",
        "registration|check|registration status|plate|valid_until:string,owner:string|"
        "if plate {plate} is still registered;when the papers for {plate} expire;"
        "whether the car {plate} is legal on the road",
        "service|book|service appointment|vehicle,date|appointment_id:string|a mechanic "
        "for my {vehicle} {date};to get the {vehicle} looked at {date};"
        "an oil change on my {vehicle} {date}",
    ]),
    "transit": ("public transit", [
        "departures|get|transit departures|city,time?|departures:array|when the next "
        "bus or metro leaves in {city}[ after {time}];the upcoming trains in {city}"
        "[ from {time}];what rolls out of the station in {city}[ around {time}]",
        "transit_route|plan|transit route|origin,destination,time?|legs:array|how to "
        "ride from {origin} to {destination} by metro[ leaving {time}];which trains link "
        "{origin} and {destination}[ at {time}];the connections between {origin} and "
        "{destination}[ after {time}]",
        "fares|get|ticket fares|city|fares:array|what a ride costs in {city};the price of "
        "a day pass in {city};how much I pay to use the metro in {city}",
    ]),
    "rideshare": ("ride", [
        "request_ride|request|ride|address,destination|ride_id:string,eta:integer|a car "
        "to pick me up at {address} going to {destination};someone to drive me from "
        "{address} over to {destination};a lift from {address} to {destination}",
        "ride_estimate|estimate|ride fare|address,destination|fare:number|what a cab "
        "from {address} to {destination} would cost;the price to get driven from {address} "
        "to {destination};if a taxi {address} to {destination} is affordable",
        "driver_location|track|driver location|address?|lat:number,lon:number|"
        "where my driver is[ on the way to {address}];how close the car is[ to {address}];"
        "if my pickup is almost here[ at {address}]",
    ]),
    "pets": ("pet", [
        "vets|search|veterinarians|city,pet?|clinics:array|an animal doctor in {city}"
        "[ who knows {pet}s];someone in {city} to check on my pet[ {pet}];"
        "emergency animal care in {city}[ for a {pet}]",
        "pet_food|recommend|pet food|pet,count?|foods:array|what to feed a {pet}"
        "[ aged {count}];the best diet for my {pet}[ at {count} years old];"
        "which kibble suits a {pet}[ of {count}]",
        "breed_info|get|breed information|pet|temperament:string,lifespan:integer|what a "
        "{pet} is like to live with;how long a {pet} usually lives;"
        "whether a {pet} is good with kids",
    ]),
    "gardening": ("garden", [
        "care|get|plant care guide|plant|water:string,light:string|how often to water "
        "my {plant};how to keep {plant} alive;what my {plant} needs to thrive",
        "planting|get|planting calendar|plant,city|sow_window:string|when to sow {plant} "
        "in {city};the right season for {plant} around {city};"
        "if it's too late to put {plant} in the ground in {city}",
        "diagnose|diagnose|plant disease|plant,symptom|diagnosis:string,treatment:string|"
        "why my {plant} shows {symptom};what's wrong with {plant} that has {symptom};"
        "how to save {plant} suffering from {symptom}",
    ]),
    "events": ("event", [
        "event_search|search|local events|city,date|events:array|what's on in {city} "
        "{date};something fun to do in {city} {date};where the action is in {city} {date}",
        "tickets|buy|event tickets|event,count|order_id:string|{count} seats for "
        "{event};to get into {event} with {count} people;passes for {event}, {count} of them",
        "event_details|get|event details|event|venue:string,start:string,price:number|"
        "where {event} takes place;what time {event} begins;how much {event} costs to enter",
    ]),
    "insurance": ("insurance", [
        "claim|file|insurance claim|policy,keyword|claim_id:string|to get reimbursed "
        "under {policy} for the {keyword};compensation from {policy} after the {keyword};"
        "that {policy} covers the {keyword}",
        "coverage|get|policy coverage|policy|coverage:array,deductible:number|what "
        "{policy} pays for;if {policy} protects me abroad;how much I'd owe out of pocket "
        "with {policy}",
        "quote_insurance|get|insurance quote|vehicle,zip_code|premium:number|what it "
        "costs to protect my {vehicle} at {zip_code};a price to cover a {vehicle} "
        "registered at {zip_code};how expensive keeping a {vehicle} safe is in {zip_code}",
    ]),
    "shipping": ("parcel", [
        "track_parcel|track|parcel|tracking_number|status:string,location:string|"
        "where package {tracking_number} is;if {tracking_number} was delivered;"
        "what happened to my box {tracking_number}",
        "shipping_rate|calculate|shipping rates|zip_code,amount|rates:array|what sending "
        "{amount} grams to {zip_code} costs;the cheapest way to mail {amount} grams to "
        "{zip_code};how much postage a {amount} gram box to {zip_code} needs",
        "pickup|schedule|courier pickup|address,date|pickup_id:string|someone to collect "
        "a box from {address} {date};a courier at {address} {date};"
        "that my package leaves {address} {date}",
    ]),
    "dictionary": ("dictionary", [
        "define|define|word definition|word|definitions:array|what {word} means;the "
        "meaning of {word};how to understand the word {word}",
        "synonyms|find|synonyms|word,count?|synonyms:array|other ways to say {word}"
        "[ - {count} options];words close to {word}[, {count} of them];"
        "a replacement for {word} in my essay[, {count} ideas]",
        "etymology|get|word origin|word|origin:string|where {word} comes from;"
        "the history of {word};who first used {word}",
    ]),
    "astronomy": ("astronomy", [
        "visibility|get|planet visibility|planet,city|rise:string,set:string|when I can "
        "spot {planet} from {city};if {planet} is up tonight over {city};"
        "where to look for {planet} in the {city} sky",
        "sun_times|get|sunrise and sunset times|city,date|sunrise:string,sunset:string|"
        "when it gets dark in {city} {date};what time dawn is in {city} {date};"
        "how much daylight {city} gets {date}",
        "horoscope|get|horoscope|zodiac,date?|reading:string|what the stars say for "
        "{zodiac}[ {date}];my {zodiac} reading[ for {date}];what's in store for a "
        "{zodiac}[ {date}]",
    ]),
    "gaming": ("game", [
        "game_deals|find|game discounts|game|offers:array|a cheap copy of {game};"
        "whether {game} is on sale;the lowest price for {game}",
        "walkthrough|get|game walkthrough|game,keyword?|guide:string|how to beat {game}"
        "[ at the {keyword}];help getting past {game}[ on the {keyword}];"
        "tips for finishing {game}[ near the {keyword}]",
        "player_stats|get|player statistics|game,person|hours:number,achievements:array|"
        "how long {person} has played {game};what {person} unlocked in {game};"
        "how good {person} is at {game}",
    ]),
    "devops": ("deployment", [
        "deploy|deploy|service|service,branch|deployment_id:string|to ship {branch} of "
        "{service} to production;{service} running the code from {branch};"
        "that {service} goes live with {branch}",
        "logs|get|service logs|service,minutes?|lines:array|what {service} printed"
        "[ in the last {minutes} minutes];the errors from {service}[ over {minutes} "
        "minutes];why {service} is crashing[ since {minutes} minutes ago]",
        "rollback|rollback|deployment|service|deployment_id:string|to undo the last "
        "release of {service};{service} back on yesterday's version;"
        "to revert {service} because it broke",
        "metrics|get|service metrics|service,minutes?|latency_ms:number,"
        "error_rate:number|how fast {service} answers[ over {minutes} minutes];"
        "whether {service} is healthy[ in the past {minutes} minutes];"
        "if {service} slowed down[ during the last {minutes} minutes]",
    ]),
    "code": ("code repository", [
        "pull_requests|list|pull requests|repo,branch?|pull_requests:array|what "
        "changes are waiting in {repo}[ against {branch}];the open reviews on {repo}"
        "[ for {branch}];who wants to merge into {repo}[ on {branch}]",
        "ci_status|get|build status|repo,branch|state:string,failed_jobs:array|whether "
        "{branch} of {repo} is green;if the tests pass on {branch} in {repo};"
        "why {repo} fails on {branch}",
        "create_issue|create|issue|repo,keyword|issue_id:string|to report the {keyword} "
        "problem in {repo};a bug note about the {keyword} for {repo};"
        "that the {repo} team hears about the {keyword}",
    ]),
    "it_support": ("IT support", [
        "open_ticket|create|support ticket|device,keyword|ticket_id:string|help because "
        "my {device} has a {keyword} problem;someone to fix the {keyword} on my {device};"
        "a technician for the {device} {keyword}",
        "ticket_status|get|ticket status|ticket_id|status:string,assignee:string|what "
        "happened with {ticket_id};who is handling {ticket_id};"
        "if {ticket_id} is resolved",
        "reset_password|reset|account password|email|reset_link:string|to get back "
        "into {email};a new login for {email};that I can sign in as {email} again",
    ]),
    "notes": ("notes", [
        "add_note|create|note|note|note_id:string|to jot down \"{note}\";that I "
        "remember to {note};to keep \"{note}\" somewhere",
        "todo|create|task|note,date|task_id:string|a reminder to {note} {date};"
        "to {note} {date} without fail;that {note} is on my list for {date}",
        "search_notes|search|notes|keyword|notes:array|what I wrote about the {keyword};"
        "my thoughts on the {keyword};anything I saved about the {keyword}",
    ]),
    "social": ("social media", [
        "post|publish|social post|text,brand?|post_id:string|to share \"{text}\" with "
        "my followers[ on {brand}];that everyone sees \"{text}\"[ on {brand}];"
        "to announce \"{text}\" publicly[ via {brand}]",
        "mentions|list|mentions|brand|mentions:array|who talks about {brand} online;"
        "what people say about {brand};whether {brand} is trending",
        "followers|get|follower count|person|followers:integer|how popular {person} "
        "is;how big the audience of {person} is;how many fans {person} has",
    ]),
    "air_quality": ("air quality", [
        "aqi|get|air quality index|city|aqi:integer,category:string|how clean the air "
        "is in {city};whether it's smoggy in {city};if I can jog outside in {city} safely",
        "pollen|get|pollen count|city,date?|pollen:string,level:string|how bad "
        "allergies will be in {city}[ {date}];if trees are releasing a lot in {city}"
        "[ {date}];whether I'll be sneezing in {city}[ {date}]",
        "pollution_forecast|get|pollution forecast|city,date|aqi:integer|how hazy "
        "{city} will be {date};whether the smog lifts in {city} {date};"
        "if I should wear a mask in {city} {date}",
    ]),
}
