<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * English strings of local_outlooksync.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['account'] = 'Account id';
$string['account_desc'] = 'How this Moodle site is named at the bridge (letters, digits, . _ : -). Keep it once chosen: the bridge keeps the connection and the synced entries under it.';
$string['bridgerefused'] = 'The Outlook Calendar bridge at {$a->url} did not accept the delivery (HTTP {$a->status}): {$a->response}';
$string['bridgeurl'] = 'Bridge URL';
$string['bridgeurl_desc'] = 'The base address of the Outlook Calendar for the LMS bridge (its OUTLOOK_SYNC_PUBLIC_URL), e.g. https://outlook-sync.example.com. Moodle posts the hooks there and shows its page from there.';
$string['copied'] = 'Address copied';
$string['copy'] = 'Copy';
$string['deadlines'] = 'Send deadlines';
$string['deadlines_desc'] = 'Also send assignments\' due dates and quizzes\' close times, with each learner\'s own due time (an extension, a user or group override) and whether they have submitted or finished. The bridge shows them in Outlook when its page offers deadlines. Switching it off removes what was sent within 5 minutes (the reconcile task).';
$string['enabled'] = 'Enabled';
$string['enabled_desc'] = 'Send Moodle\'s users, face-to-face sessions, booking options and bookings to the bridge. Switching it on, here or with admin/cli/cfg.php, queues a backfill of everything.';
$string['feedaddress'] = 'Your calendar address';
$string['feedget'] = 'Get my calendar address';
$string['feedheading'] = 'Your sessions in any calendar app';
$string['feedintro'] = 'Your calendar app can show your sessions too: subscribe to your private calendar address (Google Calendar: Other calendars → From URL; Outlook.com: Add calendar → Subscribe from web; Apple Calendar: File → New Calendar Subscription). The app then checks it for changes by itself.';
$string['feednew'] = 'New address';
$string['feedopen'] = 'Open it in your calendar app';
$string['feedprivate'] = 'Keep the address to yourself: anyone who has it can read your sessions. New address makes another one and stops the old one at once; Stop removes it.';
$string['feedrefused'] = 'The Outlook Calendar service did not do it. Try again later.';
$string['feedstop'] = 'Stop';
$string['mypage'] = 'Outlook Calendar';
$string['mypageoff'] = 'The Outlook Calendar integration is not switched on in this site.';
$string['myunknown'] = 'Moodle has not told the Outlook Calendar service about you yet. This happens within a few minutes; open this page again later.';
$string['myunreachable'] = 'The Outlook Calendar service cannot be reached just now. Open this page again later; if this lasts, tell the site administrators.';
$string['notconfigured'] = 'The Outlook Calendar integration is not configured: set the bridge URL, the host secret and the account id in Site administration → Plugins → Local plugins → Outlook Calendar sync.';
$string['openalone'] = 'Open the page in its own window';
$string['outlooksync:manage'] = 'Manage the Microsoft Outlook Calendar integration';
$string['pagename'] = 'Microsoft Outlook Calendar';
$string['pluginname'] = 'Outlook Calendar sync';
$string['privacy:metadata:bridge'] = 'The Outlook Calendar for the LMS bridge receives users and their face-to-face sessions and booking options and writes them into their Outlook calendars through Microsoft Graph.';
$string['privacy:metadata:bridge:active'] = 'Whether the user is active (not suspended).';
$string['privacy:metadata:bridge:deadlines'] = 'When deadlines are sent: the assignments and quizzes the user has (title, description, link), the user\'s own due time (after an extension or override) and whether they have submitted or finished.';
$string['privacy:metadata:bridge:email'] = 'The user\'s email address, which names their mailbox.';
$string['privacy:metadata:bridge:fullname'] = 'The user\'s full name.';
$string['privacy:metadata:bridge:role'] = 'Whether the user owns, administers, trains or learns.';
$string['privacy:metadata:bridge:sessions'] = 'The face-to-face sessions and booking options the user trains, teaches or is booked on: title, description, dates, location and link.';
$string['privacy:metadata:bridge:timezone'] = 'The user\'s time zone.';
$string['privacy:metadata:bridge:userid'] = 'The user\'s Moodle id.';
$string['privacy:metadata:preference:feedissued'] = 'When the bridge made the user\'s calendar-feed address.';
$string['privacy:metadata:preference:feedurl'] = 'The user\'s private calendar-feed address, made by the bridge for them.';
$string['privacy:metadata:state'] = 'What was last sent to the bridge for each object, to send each change once.';
$string['privacy:metadata:state:hash'] = 'A hash of the content sent.';
$string['privacy:metadata:state:objectkey'] = 'The object: a user id, or a session date and a user id.';
$string['privacy:metadata:state:version'] = 'The version sent.';
$string['privatenetwork'] = 'The bridge is on a private network';
$string['privatenetwork_desc'] = 'Moodle refuses requests to local and private addresses and to ports other than 80 and 443 (Site administration → General → Security → HTTP security). Tick this when the bridge is on such an address: the plugin\'s requests to the bridge URL above then skip that check, and nothing else changes. Leave it off to keep the check and allow the bridge\'s host and port in that list instead.';
$string['keyid'] = 'Host key id';
$string['keyid_desc'] = 'The id of this site\'s own key on the bridge (hk_…, from `outlook-sync host-key create --account <account id>`); the host secret is then that key\'s secret. Leave empty only when this site is the bridge\'s one LMS and signs with its OUTLOOK_SYNC_HOST_SECRET. A bridge that serves several sites gives each its own key.';
$string['secret'] = 'Host secret';
$string['secret_desc'] = 'The secret that signs the hooks, the page\'s launch links and the calls about a user (at least 16 characters): the secret of the host key above, or, without a key id, the bridge\'s OUTLOOK_SYNC_HOST_SECRET.';
$string['settings'] = 'Outlook Calendar sync';
$string['taskreconcile'] = 'Outlook Calendar: send changes no event announced';
