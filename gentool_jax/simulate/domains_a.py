"""Domains of the tool world, part one (part two is domains_b.py).

One capability a line: `id | verb | object | parameters | returns | ask; ask; ask`.
Parameters are slot kinds of gazetteers.SLOTS (`?` = optional). Asks are noun clauses a user
would say, written to avoid the tool's own words so lexical matching is not enough; `{slot}`
is filled from the gazetteer and `[...]` wraps the mention of an optional slot. The last ask of
each capability is held out for the unseen-query scenarios.
"""

DOMAINS_A: dict[str, tuple[str, list[str]]] = {
    "weather": ("weather", [
        "current|get|current conditions|city,unit?|temperature:number,conditions:string,"
        "humidity:number|what it feels like outside in {city} right now[ in {unit}];"
        "how warm it is in {city} at the moment[ in {unit}];"
        "whether I need a jacket in {city} right now[, in {unit} please]",
        "forecast|get|daily forecast|city,date|high:number,low:number,summary:string|"
        "what the sky will do in {city} {date};whether it will rain in {city} {date};"
        "if I should pack an umbrella for {city} {date}",
        "alerts|list|severe weather alerts|city|alerts:array,severity:string|"
        "whether any storm warnings are out for {city};if a heatwave or flood is expected "
        "around {city};whether it is dangerous to drive near {city} because of storms",
        "uv|get|UV index|city,date?|uv_index:number,risk:string|how strong the sun will be "
        "in {city}[ {date}];whether I need sunscreen in {city}[ {date}];"
        "how quickly I would burn at the beach in {city}[ {date}]",
    ]),
    "maps": ("maps", [
        "directions|get|route directions|origin,destination,mode?|steps:array,"
        "distance_km:number|how to get from {origin} to {destination}[ by {mode}];"
        "the way from {origin} to {destination}[ going {mode}];"
        "which turns to take from {origin} over to {destination}[ when {mode}]",
        "travel_time|estimate|travel time|origin,destination,mode?|minutes:integer|"
        "how long the trip from {origin} to {destination} takes[ by {mode}];"
        "how many hours {origin} to {destination} is[ {mode}];"
        "when I would arrive in {destination} if I left {origin} now[ {mode}]",
        "nearby|search|nearby places|city,keyword|places:array|spots around {city} "
        "for a {keyword};somewhere in {city} that suits a {keyword};"
        "a venue close by in {city} for my {keyword}",
        "geocode|convert|address to coordinates|address,city|lat:number,lon:number|"
        "the exact position of {address} in {city};the latitude of {address}, {city};"
        "where precisely {address} in {city} sits on the globe",
    ]),
    "calendar": ("calendar", [
        "create_event|create|calendar event|keyword,date,time?|event_id:string|"
        "to put my {keyword} in my schedule {date}[ at {time}];"
        "to block {date}[ at {time}] for the {keyword};"
        "that I don't forget the {keyword} {date}[ at {time}]",
        "list_events|list|upcoming events|date|events:array|what I have going on {date};"
        "whether my agenda is busy {date};how packed my day looks {date}",
        "free_slots|find|free time slots|date,minutes?|slots:array|when I have a gap {date}"
        "[ of {minutes} minutes];an opening in my day {date}[ for {minutes} minutes];"
        "a moment I'm not booked {date}[ lasting {minutes} minutes]",
        "invite|send|meeting invitation|contact,date,time?|invite_id:string,status:string|"
        "to get {contact} to join me {date}[ at {time}];to ask {contact} to meet {date}"
        "[ at {time}];that {contact} gets asked along {date}[ around {time}]",
    ]),
    "stocks": ("stock market", [
        "quote|get|stock quote|ticker|price:number,change_pct:number|what {ticker} is "
        "trading at;how much one share of {ticker} costs now;where {ticker} stands today",
        "history|get|price history|ticker,date|prices:array|how {ticker} moved since {date};"
        "the chart of {ticker} from {date};whether {ticker} went up or down since {date}",
        "fundamentals|get|company fundamentals|company|pe_ratio:number,revenue:number,"
        "market_cap:number|how profitable {company} is;the earnings picture of {company};"
        "if {company} is overvalued",
        "dividends|list|dividend payments|ticker|dividends:array,yield_pct:number|"
        "what {ticker} pays shareholders;how much income {ticker} gives back per share;"
        "when {ticker} next pays out",
    ]),
    "banking": ("bank account", [
        "balance|get|account balance|currency?|balance:number,currency:string|how much money "
        "I have left[ in {currency}];what's sitting in my checking[ in {currency}];"
        "if I can afford rent this month[ in {currency}]",
        "transfer|send|money transfer|contact,amount,currency?|transfer_id:string,"
        "status:string|to pay {contact} {amount}[ {currency}];to move {amount}[ {currency}] "
        "over to {contact};that {contact} receives {amount}[ {currency}] from me",
        "transactions|list|recent transactions|date|transactions:array|what I spent since "
        "{date};my card purchases since {date};where my money went since {date}",
        "block_card|block|payment card|keyword?|card_status:string|to freeze my card"
        "[ after the {keyword}];that nobody can use my lost card[ since the {keyword}];"
        "to stop my card right away[ because of the {keyword}]",
    ]),
    "flights": ("flight", [
        "search_flights|search|flights|origin,destination,date,cabin?|flights:array|"
        "a way to fly {origin} to {destination} {date}[ in {cabin}];planes leaving {origin} "
        "for {destination} {date}[, {cabin}];how to hop from {origin} to {destination} by air "
        "{date}[ seated in {cabin}]",
        "flight_status|get|flight status|flight_number|status:string,gate:string,"
        "delay_minutes:integer|whether {flight_number} is on time;if {flight_number} "
        "left yet;which gate {flight_number} boards at",
        "baggage|get|baggage allowance|airline,cabin?|checked_kg:number,carry_on_kg:number|"
        "how heavy my suitcase may be on {airline}[ in {cabin}];how many bags {airline} lets "
        "me bring[ flying {cabin}];what luggage fits the rules of {airline}[ in {cabin}]",
        "checkin|perform|online check-in|flight_number,person|boarding_pass:string|"
        "to get {person} onto {flight_number} before the airport;a boarding pass for "
        "{person} on {flight_number};that {person} is all set for {flight_number}",
    ]),
    "hotels": ("hotel", [
        "search_hotels|search|hotels|city,date,nights?,budget?|hotels:array|a place to "
        "sleep in {city} from {date}[ for {nights} nights][ under {budget}];a room in {city} "
        "{date}[ for {nights} nights][ below {budget}];somewhere to stay in {city} {date}"
        "[ for {nights} nights][ up to {budget}]",
        "book_room|book|hotel room|hotel,date,nights|reservation_id:string|to reserve "
        "{hotel} {date} for {nights} nights;a room at {hotel} for {nights} nights from "
        "{date};that {hotel} holds a bed for me {date} for {nights} nights",
        "reviews|get|hotel reviews|hotel|rating:number,reviews:array|what guests say "
        "about {hotel};whether {hotel} is clean and quiet;if people liked {hotel}",
        "amenities|list|hotel amenities|hotel|amenities:array|whether {hotel} has a pool "
        "or gym;what comes with a stay at {hotel};if {hotel} offers breakfast and parking",
    ]),
    "recipes": ("recipe", [
        "find_recipe|search|recipes|ingredient,diet?|recipes:array|something to cook "
        "with {ingredient}[ that is {diet}];a dinner idea using {ingredient}[, {diet}];"
        "what I can make tonight from {ingredient}[ keeping it {diet}]",
        "recipe_steps|get|cooking instructions|dish|steps:array,minutes:integer|how to "
        "make {dish} at home;the method for {dish};what to do first when preparing {dish}",
        "substitute|find|ingredient substitutes|ingredient|substitutes:array|what could "
        "replace {ingredient};a swap for {ingredient} in my dish;"
        "whether I can skip {ingredient} and use something else",
        "scale|scale|recipe servings|dish,count|ingredients:array|how to cook {dish} "
        "for {count} people;the amounts of {dish} to feed {count};"
        "enough {dish} for a table of {count}",
    ]),
    "restaurants": ("restaurant", [
        "find_restaurant|search|restaurants|city,cuisine|restaurants:array|a good "
        "{cuisine} place to eat in {city};where to get {cuisine} food in {city};"
        "a spot in {city} that serves {cuisine}",
        "reserve_table|book|table reservation|restaurant,date,count,time?|booking_id:string|"
        "a table at {restaurant} {date} for {count}[ at {time}];to save seats for {count} "
        "at {restaurant} {date}[ around {time}];that {restaurant} expects {count} of us "
        "{date}[ at {time}]",
        "menu|get|restaurant menu|restaurant,diet?|dishes:array|what {restaurant} "
        "serves[ that is {diet}];the dishes at {restaurant}[ for {diet} eaters];"
        "what I could order at {restaurant}[ being {diet}]",
        "opening_hours|get|opening hours|restaurant|hours:string,open_now:boolean|when "
        "{restaurant} opens;if {restaurant} is open late;whether I can still walk into "
        "{restaurant} tonight",
    ]),
    "health": ("health", [
        "symptom_check|check|symptoms|symptom|conditions:array,urgency:string|what could "
        "cause {symptom};why I might have {symptom};whether {symptom} is something serious",
        "drug_info|get|medication information|medication|uses:array,side_effects:array|"
        "what {medication} is for;the side effects of {medication};"
        "whether {medication} will make me drowsy",
        "interactions|check|drug interactions|medication,ingredient?|interactions:array|"
        "if {medication} clashes with other pills[ or {ingredient}];whether it is safe to "
        "combine {medication}[ with {ingredient}];what not to mix with {medication}"
        "[ such as {ingredient}]",
        "find_doctor|search|doctors|city,keyword?|doctors:array|a physician in {city}"
        "[ for my {keyword}];someone in {city} who can examine me[ about the {keyword}];"
        "a clinic in {city} taking new patients[ for a {keyword}]",
    ]),
    "fitness": ("fitness", [
        "log_workout|log|workout|exercise,minutes|workout_id:string,calories:number|"
        "that I did {minutes} minutes of {exercise};to record {exercise} for {minutes} "
        "minutes;to remember my {minutes}-minute {exercise} session",
        "plan|create|training plan|exercise,count?|plan:array|a program to get better at "
        "{exercise}[ over {count} weeks];how to build up my {exercise}[ in {count} weeks];"
        "a schedule that improves my {exercise}[ within {count} weeks]",
        "calories_burned|estimate|calories burned|exercise,minutes|calories:number|"
        "how much energy {minutes} minutes of {exercise} uses;what {minutes} minutes of "
        "{exercise} burns off;whether {minutes} minutes of {exercise} cancels out a pizza",
        "steps|get|step count|date|steps:integer,distance_km:number|how far I walked "
        "{date};how many strides I took {date};whether I hit my walking goal {date}",
    ]),
    "movies": ("movie", [
        "showtimes|get|movie showtimes|movie,city,date?|showtimes:array|when {movie} "
        "plays in {city}[ {date}];a screening of {movie} in {city}[ {date}];"
        "if I can catch {movie} at a cinema in {city}[ {date}]",
        "movie_info|get|film details|movie|director:string,year:integer,cast:array|who "
        "directed {movie};the cast and year of {movie};what {movie} is about",
        "recommend|recommend|similar movies|movie,count?|movies:array|films like {movie}"
        "[, {count} of them];what to watch after {movie}[ - give me {count}];"
        "something with the same vibe as {movie}[, {count} picks]",
        "streaming|find|streaming availability|movie,city?|services:array|where I can "
        "stream {movie}[ from {city}];which app has {movie}[ in {city}];"
        "if {movie} is on any subscription[ while I'm in {city}]",
    ]),
    "music": ("music", [
        "play|play|music playback|artist|now_playing:string|to hear some {artist};"
        "{artist} on the speakers;to put on {artist}",
        "playlist|create|playlist|genre,count?|playlist_id:string,tracks:array|a mix of "
        "{genre}[ with {count} songs];a set of {genre} tunes[, {count} tracks];"
        "a {genre} soundtrack for my evening[ of {count} songs]",
        "artist_info|get|artist biography|artist|bio:string,albums:array|the story of "
        "{artist};which records {artist} released;where {artist} comes from",
        "concerts|search|concerts|artist,city?|concerts:array|when {artist} performs "
        "live[ in {city}];if {artist} is touring[ near {city}];"
        "tickets to see {artist} on stage[ in {city}]",
    ]),
    "podcasts": ("podcast", [
        "episodes|list|podcast episodes|podcast,count?|episodes:array|the newest shows "
        "from {podcast}[, {count} of them];what {podcast} released lately[ - last {count}];"
        "if there's anything new on {podcast}[, up to {count}]",
        "search_podcasts|search|podcasts|topic|podcasts:array|something to listen to about "
        "{topic};audio shows covering {topic};what to put in my ears on my commute about "
        "{topic}",
        "subscribe|subscribe|podcast feed|podcast|subscribed:boolean|to follow {podcast};"
        "that I never miss {podcast};to get {podcast} automatically",
    ]),
    "books": ("book", [
        "book_search|search|books|author|books:array|what {author} has written;"
        "novels by {author};the bibliography of {author}",
        "book_summary|get|book summary|book|summary:string,themes:array|what {book} is "
        "about;the plot of {book};the main ideas in {book}",
        "library|check|library availability|book,city|available:boolean,branches:array|"
        "whether I can borrow {book} in {city};if a branch in {city} has {book} on the "
        "shelf;where to pick up {book} for free in {city}",
        "book_price|compare|book prices|book|offers:array|the cheapest way to buy {book};"
        "how much {book} costs;who sells {book} for less",
    ]),
    "news": ("news", [
        "headlines|get|top headlines|topic?|articles:array|what's happening in the "
        "world[ around {topic}];today's big stories[ on {topic}];"
        "what everyone is talking about[ regarding {topic}]",
        "news_search|search|news articles|topic,date?|articles:array|the latest reporting "
        "on {topic}[ since {date}];coverage of {topic}[ from {date}];"
        "what journalists wrote about {topic}[ since {date}]",
        "company_news|get|company news|company|articles:array|what {company} announced; "
        "the latest on {company};whether {company} made the papers",
    ]),
    "messaging": ("messaging", [
        "send_message|send|text message|contact,text|message_id:string|to tell {contact} "
        "\"{text}\";that {contact} hears \"{text}\" from me;to drop {contact} a line "
        "saying \"{text}\"",
        "read_messages|list|unread messages|contact?|messages:array|what people wrote "
        "me[ - especially {contact}];if I missed any chats[ from {contact}];"
        "whether anyone pinged me[, like {contact}]",
        "group_chat|create|group chat|contact,keyword|chat_id:string|to start a thread "
        "with {contact} about the {keyword};a conversation with {contact} for the "
        "{keyword};to loop {contact} into talking about the {keyword}",
    ]),
    "email": ("email", [
        "send_email|send|email|email,keyword|email_id:string|to write to {email} about "
        "the {keyword};a note to {email} regarding the {keyword};"
        "that {email} gets my update on the {keyword}",
        "search_email|search|mailbox|keyword,date?|emails:array|the mail about the "
        "{keyword}[ since {date}];where that {keyword} thread went[ from {date}];"
        "the correspondence on the {keyword}[ since {date}]",
        "unsubscribe|unsubscribe|mailing lists|brand|unsubscribed:boolean|to stop "
        "{brand} newsletters;that {brand} quits spamming me;to get off the {brand} list",
    ]),
    "shopping": ("shopping", [
        "product_search|search|products|product,budget?|products:array|a good "
        "{product}[ under {budget}];which {product} I should get[ for less than {budget}];"
        "a well-rated {product}[ within {budget}]",
        "price_compare|compare|prices|product|offers:array,lowest:number|who sells the "
        "{product} for less;the best deal on a {product};whether the {product} is cheaper "
        "elsewhere",
        "order_status|track|order|order_id|status:string,eta:string|where my purchase "
        "{order_id} is;when {order_id} arrives;if {order_id} shipped yet",
        "returns|create|return request|order_id,keyword?|return_id:string,label:string|"
        "to send back {order_id}[ because of the {keyword}];a refund for {order_id}"
        "[ due to the {keyword}];to get rid of {order_id} and get my money back"
        "[ after the {keyword}]",
    ]),
    "sports": ("sports", [
        "scores|get|live scores|team|score:string,minute:integer|how {team} is doing "
        "right now;whether {team} is winning;the result of the {team} game",
        "fixtures|list|upcoming fixtures|team,count?|matches:array|when {team} plays "
        "next[ - next {count} games];the coming games of {team}[, {count} of them];"
        "who {team} faces soon[ over the next {count} games]",
        "standings|get|league table|team|position:integer,points:integer|where {team} "
        "ranks in the league;how many points {team} has;if {team} is near the top",
    ]),
    "real_estate": ("real estate", [
        "listings|search|property listings|city,budget,count?|listings:array|an "
        "apartment in {city} under {budget}[ with {count} bedrooms];a home to rent in "
        "{city} for {budget}[ with {count} rooms];somewhere to live in {city} costing "
        "about {budget}[, {count} bedrooms]",
        "valuation|estimate|property value|address,city|value:number,range:array|what "
        "{address} in {city} is worth;how much I'd get selling {address}, {city};"
        "the market price of the flat at {address} in {city}",
        "mortgage|calculate|mortgage payment|amount,count|monthly:number|my monthly "
        "repayment on {amount} over {count} years;what borrowing {amount} for {count} "
        "years costs per month;how heavy a {amount} loan over {count} years would be",
    ]),
    "jobs": ("jobs", [
        "job_search|search|job openings|job_title,city|jobs:array|work as a {job_title} "
        "in {city};who is hiring a {job_title} in {city};a {job_title} position in {city}",
        "salary|estimate|salary range|job_title,city?|median:number,range:array|what a "
        "{job_title} earns[ in {city}];the typical pay of a {job_title}[ around {city}];"
        "if a {job_title} makes a decent living[ in {city}]",
        "apply|submit|job application|job_title,company|application_id:string|to throw "
        "my hat in for {job_title} at {company};that {company} gets my CV for {job_title};"
        "to go for the {job_title} role at {company}",
    ]),
    "education": ("education", [
        "courses|search|online courses|course|courses:array|a class to learn {course};"
        "where to study {course};how to get into {course} from scratch",
        "grades|get|student grades|course|grade:string,score:number|how I did in "
        "{course};my mark for {course};whether I passed {course}",
        "tutor|find|tutors|course,city?|tutors:array|someone to help me with {course}"
        "[ in {city}];a private teacher for {course}[ near {city}];"
        "an expert who could explain {course} to me[ in {city}]",
    ]),
}
