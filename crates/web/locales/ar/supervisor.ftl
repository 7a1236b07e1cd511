## supervisor pages
supervisor-regions-title = الأسر والأفراد حسب الجهة
supervisor-region = الجهة
supervisor-households = الأسر
supervisor-persons = الأفراد
supervisor-total = المجموع
